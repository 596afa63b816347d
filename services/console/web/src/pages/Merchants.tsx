import { useQuery } from '@tanstack/react-query';
import { Table } from 'antd';
import type { HTMLAttributes } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { servicesApi, type Merchant, type MerchantStatus } from '../api/services';
import { LoadFailed } from '../components/LoadFailed';
import { PageTitle } from '../components/PageTitle';
import { Pager, StatusFilter, useStatusFilter } from '../components/Pager';
import { StatusTag, type Tone } from '../components/StatusTag';
import { formatShanghaiTime } from '../format';

const PAGE_SIZE = 50;

export const MERCHANT_STATUS_TONES: Record<MerchantStatus, Tone> = {
  draft: 'neutral',
  submitted: 'info',
  in_review: 'waiting',
  rejected: 'bad',
  active: 'good',
  suspended: 'waiting',
  terminated: 'bad',
};
const STATUSES = Object.keys(MERCHANT_STATUS_TONES) as MerchantStatus[];

export function MerchantsPage() {
  const { t } = useTranslation();
  const { status, startingAfter, setStatus } = useStatusFilter(STATUSES);
  const merchants = useQuery({
    queryKey: ['merchants', status, startingAfter],
    queryFn: () => servicesApi.merchants({ status, starting_after: startingAfter, limit: PAGE_SIZE }),
  });
  const rows = merchants.data?.data ?? [];
  return (
    <>
      <PageTitle>{t('merchants.title')}</PageTitle>
      <StatusFilter
        id="merchant-status"
        statuses={STATUSES}
        wordsKey="merchants.statuses"
        value={status}
        onChange={setStatus}
      />
      <LoadFailed query={merchants} />
      <Table<Merchant>
        rowKey="id"
        loading={merchants.isPending}
        dataSource={rows}
        pagination={false}
        onRow={() => ({ 'data-testid': 'merchant-row' }) as HTMLAttributes<HTMLElement>}
        columns={[
          { title: t('merchants.id'), dataIndex: 'id' },
          {
            title: t('merchants.legalName'),
            dataIndex: 'legal_name',
            render: (name: string, merchant) => <Link to={`/merchants/${merchant.id}`}>{name}</Link>,
          },
          { title: t('merchants.displayName'), dataIndex: 'display_name', render: (value) => value ?? '—' },
          { title: t('merchants.region'), dataIndex: 'region_code', render: (value) => value ?? '—' },
          {
            title: t('common.status'),
            dataIndex: 'status',
            render: (value: MerchantStatus) => (
              <StatusTag tone={MERCHANT_STATUS_TONES[value]}>{t(`merchants.statuses.${value}`)}</StatusTag>
            ),
          },
          {
            title: t('merchants.createdAt'),
            dataIndex: 'created_at',
            render: (at: string) => <span className="nowrap">{formatShanghaiTime(at)}</span>,
          },
        ]}
      />
      <Pager hasMore={merchants.data?.has_more ?? false} lastId={rows.at(-1)?.id} />
    </>
  );
}
