import { useQuery } from '@tanstack/react-query';
import { Table } from 'antd';
import type { HTMLAttributes } from 'react';
import { useTranslation } from 'react-i18next';
import { servicesApi, type BatchStatus, type SettlementBatch } from '../api/services';
import { LoadFailed } from '../components/LoadFailed';
import { PageTitle } from '../components/PageTitle';
import { Pager, StatusFilter, useStatusFilter } from '../components/Pager';
import { StatusTag, type Tone } from '../components/StatusTag';
import { formatShanghaiTime, formatYuan } from '../format';

const PAGE_SIZE = 50;

export const BATCH_STATUS_TONES: Record<BatchStatus, Tone> = {
  unpaid: 'waiting',
  held: 'bad',
  paid: 'good',
  nothing_owed: 'neutral',
};
const STATUSES = Object.keys(BATCH_STATUS_TONES) as BatchStatus[];

const yuanColumn = (title: string, dataIndex: keyof SettlementBatch) => ({
  title,
  dataIndex,
  align: 'right' as const,
  render: (fen: number) => formatYuan(fen),
});

export function SettlementPage() {
  const { t } = useTranslation();
  const { status, startingAfter, setStatus } = useStatusFilter(STATUSES);
  const batches = useQuery({
    queryKey: ['settlement-batches', status, startingAfter],
    queryFn: () => servicesApi.settlementBatches({ status, starting_after: startingAfter, limit: PAGE_SIZE }),
  });
  const rows = batches.data?.data ?? [];
  return (
    <>
      <PageTitle>{t('settlement.title')}</PageTitle>
      <StatusFilter
        id="batch-status"
        statuses={STATUSES}
        wordsKey="settlement.statuses"
        value={status}
        onChange={setStatus}
      />
      <LoadFailed query={batches} />
      <Table<SettlementBatch>
        rowKey="id"
        loading={batches.isPending}
        dataSource={rows}
        pagination={false}
        scroll={{ x: true }}
        onRow={() => ({ 'data-testid': 'batch-row' }) as HTMLAttributes<HTMLElement>}
        columns={[
          { title: t('settlement.businessDate'), dataIndex: 'business_date' },
          { title: t('settlement.merchant'), dataIndex: 'merchant_id' },
          {
            title: t('common.status'),
            dataIndex: 'status',
            render: (value: BatchStatus) => (
              <StatusTag tone={BATCH_STATUS_TONES[value]}>{t(`settlement.statuses.${value}`)}</StatusTag>
            ),
          },
          yuanColumn(t('settlement.gross'), 'gross_minor'),
          yuanColumn(t('settlement.unionFunded'), 'union_funded_minor'),
          yuanColumn(t('settlement.payable'), 'subsidy_payable_minor'),
          yuanColumn(t('settlement.paid'), 'subsidy_paid_minor'),
          {
            title: t('settlement.paidAt'),
            dataIndex: 'paid_at',
            render: (at: string | null) => <span className="nowrap">{formatShanghaiTime(at)}</span>,
          },
        ]}
      />
      <Pager hasMore={batches.data?.has_more ?? false} lastId={rows.at(-1)?.id} />
    </>
  );
}
