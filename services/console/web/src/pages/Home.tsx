import type { TFunction } from 'i18next';
import { useQuery } from '@tanstack/react-query';
import { Alert, Card, Col, Row, Statistic, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { mayUse } from '../access';
import type { ServiceName } from '../api/console';
import { servicesApi, type BatchStatus, type MerchantStatus, type Page } from '../api/services';
import { BarChart } from '../components/BarChart';
import { useSignedIn } from '../components/guards';
import { PageTitle } from '../components/PageTitle';
import { problemMessage } from '../problems';
import { UnavailableServices, useInbox } from './Inbox';

/** Counts come from one page of a list: up to this many, then "100+" (the services page at 100). */
const COUNT_PAGE = 100;
const SERVICES: ServiceName[] = ['merchant-onboarding', 'discount-rules', 'transaction-settlement'];

function shownCount(page: Page<unknown> | undefined, t: TFunction) {
  if (page === undefined) return '—';
  return page.has_more ? t('home.atLeast', { count: page.data.length }) : String(page.data.length);
}

function CountCard({
  title,
  query,
}: {
  title: string;
  query: { data: Page<unknown> | undefined; isPending: boolean; isError: boolean; error: unknown };
}) {
  const { t } = useTranslation();
  return (
    <Card>
      <Statistic title={title} value={shownCount(query.data, t)} loading={query.isPending} />
      {query.isError && <Typography.Text type="danger">{problemMessage(t, query.error)}</Typography.Text>}
    </Card>
  );
}

function useMerchantCount(status: MerchantStatus, enabled: boolean) {
  return useQuery({
    queryKey: ['merchants', status, undefined, 'count'],
    queryFn: () => servicesApi.merchants({ status, limit: COUNT_PAGE }),
    enabled,
  });
}

function useBatchCount(status: BatchStatus, enabled: boolean) {
  return useQuery({
    queryKey: ['settlement-batches', status, undefined, 'count'],
    queryFn: () => servicesApi.settlementBatches({ status, limit: COUNT_PAGE }),
    enabled,
  });
}

function PendingForMe() {
  const { t } = useTranslation();
  const inbox = useInbox();
  if (inbox.isError) return <Alert type="error" showIcon title={problemMessage(t, inbox.error)} />;
  const requests = inbox.data?.data ?? [];
  const perService = SERVICES.map(
    (service) => requests.filter((request) => request.service === service).length,
  );
  return (
    <Card title={t('home.pendingByService')} loading={inbox.isPending}>
      <UnavailableServices services={inbox.data?.unavailable} />
      <Statistic title={t('home.pendingForMe')} value={requests.length} style={{ marginBottom: 8 }} />
      {requests.length === 0 ? (
        <Typography.Text type="secondary">{t('home.noPending')}</Typography.Text>
      ) : (
        <BarChart
          label={t('home.pendingByService')}
          categories={SERVICES.map((service) => t(`services.${service}`))}
          values={perService}
        />
      )}
    </Card>
  );
}

export function HomePage() {
  const { t } = useTranslation();
  const { account } = useSignedIn();
  const roles = account.roles;
  const seesMerchants = mayUse(roles, 'merchants');
  const seesSettlement = mayUse(roles, 'settlement');
  // Awaiting review: submitted (review not started) and in review (waiting for its approval).
  const submitted = useMerchantCount('submitted', seesMerchants);
  const inReview = useMerchantCount('in_review', seesMerchants);
  const awaitingReview = {
    data:
      submitted.data === undefined || inReview.data === undefined
        ? undefined
        : {
            data: [...submitted.data.data, ...inReview.data.data],
            has_more: submitted.data.has_more || inReview.data.has_more,
          },
    isPending: submitted.isPending || inReview.isPending,
    isError: submitted.isError || inReview.isError,
    error: submitted.error ?? inReview.error,
  };
  const active = useMerchantCount('active', seesMerchants);
  const unpaid = useBatchCount('unpaid', seesSettlement);
  const held = useBatchCount('held', seesSettlement);

  return (
    <>
      <PageTitle>{t('home.title')}</PageTitle>
      <Typography.Paragraph style={{ fontSize: 16 }}>
        {t('home.welcome', { name: account.display_name })}
      </Typography.Paragraph>
      <Typography.Paragraph type="secondary">
        {t('home.rolesLine', { roles: roles.map((role) => t(`roles.${role}`)).join('、') })}
        {account.merchant_id !== null && <> · {t('home.merchantOf', { merchant: account.merchant_id })}</>}
      </Typography.Paragraph>
      <Row gutter={[16, 16]}>
        {seesMerchants && (
          <>
            <Col xs={24} md={12} xl={6}>
              <CountCard title={t('home.merchantsInReview')} query={awaitingReview} />
            </Col>
            <Col xs={24} md={12} xl={6}>
              <CountCard title={t('home.activeMerchants')} query={active} />
            </Col>
          </>
        )}
        {seesSettlement && (
          <>
            <Col xs={24} md={12} xl={6}>
              <CountCard title={t('home.unpaidBatches')} query={unpaid} />
            </Col>
            <Col xs={24} md={12} xl={6}>
              <CountCard title={t('home.heldBatches')} query={held} />
            </Col>
          </>
        )}
        {mayUse(roles, 'inbox') && (
          <Col xs={24} xl={12}>
            <PendingForMe />
          </Col>
        )}
      </Row>
    </>
  );
}
