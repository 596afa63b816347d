import { useQuery } from '@tanstack/react-query';
import { Alert, Select, Space, Table } from 'antd';
import type { HTMLAttributes } from 'react';
import { useTranslation } from 'react-i18next';
import { servicesApi, type Merchant, type MerchantStatus } from '../api/services';
import { PageTitle } from '../components/PageTitle';
import { Pager, useStatusFilter } from '../components/Pager';
import { StatusTag, type Tone } from '../components/StatusTag';
import { formatShanghaiTime } from '../format';
import { problemMessage } from '../problems';

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
      <Space style={{ marginBottom: 16 }}>
        <label htmlFor="merchant-status">{t('common.status')}</label>
        <Select<MerchantStatus | 'all'>
          id="merchant-status"
          style={{ width: 160 }}
          value={status ?? 'all'}
          onChange={(value) => setStatus(value === 'all' ? undefined : value)}
          options={[
            { value: 'all', label: t('common.all') },
            ...STATUSES.map((value) => ({ value, label: t(`merchants.statuses.${value}`) })),
          ]}
        />
      </Space>
      {merchants.isError && (
        <Alert
          type="error"
          showIcon
          title={t('common.loadFailed', { message: problemMessage(t, merchants.error) })}
        />
      )}
      <Table<Merchant>
        rowKey="id"
        loading={merchants.isPending}
        dataSource={rows}
        pagination={false}
        onRow={() => ({ 'data-testid': 'merchant-row' }) as HTMLAttributes<HTMLElement>}
        columns={[
          { title: t('merchants.id'), dataIndex: 'id' },
          { title: t('merchants.legalName'), dataIndex: 'legal_name' },
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
