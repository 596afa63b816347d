import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { App, Button, Popconfirm, Table } from 'antd';
import type { HTMLAttributes } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { consoleApi, type SessionRow } from '../api/console';
import { LoadFailed } from '../components/LoadFailed';
import { PageTitle } from '../components/PageTitle';
import { StatusTag } from '../components/StatusTag';
import { describeUserAgent, formatShanghaiTime } from '../format';
import { problemMessage } from '../problems';
import { forgetSession } from '../session';

const SESSIONS_KEY = ['sessions'] as const;

export function SessionsPage() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const sessions = useQuery({ queryKey: SESSIONS_KEY, queryFn: consoleApi.sessions });
  const signedOut = () => {
    forgetSession(queryClient);
    void navigate('/sign-in', { replace: true });
  };
  const end = useMutation({
    mutationFn: (row: SessionRow) => consoleApi.endSession(row.id),
    onSuccess: (_, row) => {
      if (row.current) return signedOut();
      void message.success(t('sessions.ended'));
      void queryClient.invalidateQueries({ queryKey: SESSIONS_KEY });
    },
    onError: (error) => void message.error(problemMessage(t, error)),
  });
  const everywhere = useMutation({
    mutationFn: consoleApi.signOutEverywhere,
    onSuccess: signedOut,
    onError: (error) => void message.error(problemMessage(t, error)),
  });

  return (
    <>
      <PageTitle
        extra={
          <Popconfirm
            title={t('sessions.signOutEverywhereConfirm')}
            okText={t('common.confirm')}
            cancelText={t('common.cancel')}
            onConfirm={() => everywhere.mutate()}
          >
            <Button danger loading={everywhere.isPending}>
              {t('sessions.signOutEverywhere')}
            </Button>
          </Popconfirm>
        }
      >
        {t('sessions.title')}
      </PageTitle>
      <LoadFailed query={sessions} />
      <Table<SessionRow>
        rowKey="id"
        loading={sessions.isPending}
        dataSource={sessions.data?.data ?? []}
        pagination={false}
        onRow={() => ({ 'data-testid': 'session-row' }) as HTMLAttributes<HTMLElement>}
        columns={[
          { title: t('sessions.createdAt'), dataIndex: 'created_at', render: formatShanghaiTime },
          { title: t('sessions.lastSeenAt'), dataIndex: 'last_seen_at', render: formatShanghaiTime },
          {
            title: t('sessions.userAgent'),
            dataIndex: 'user_agent',
            render: (value: string | null) => (
              <span title={value ?? undefined}>{describeUserAgent(value)}</span>
            ),
          },
          { title: t('sessions.ip'), dataIndex: 'ip', render: (value) => value ?? '—' },
          {
            title: t('common.status'),
            key: 'current',
            render: (_, row) =>
              row.current ? <StatusTag tone="info">{t('sessions.current')}</StatusTag> : null,
          },
          {
            title: t('common.actions'),
            key: 'end',
            render: (_, row) => (
              <Popconfirm
                title={t('sessions.endConfirm')}
                okText={t('common.confirm')}
                cancelText={t('common.cancel')}
                onConfirm={() => end.mutate(row)}
              >
                <Button size="small">{t('sessions.end')}</Button>
              </Popconfirm>
            ),
          },
        ]}
      />
    </>
  );
}
