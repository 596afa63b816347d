import type { TFunction } from 'i18next';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert,
  App,
  Button,
  Card,
  Descriptions,
  Empty,
  Form,
  Input,
  Modal,
  Space,
  Table,
  Tag,
  Typography,
} from 'antd';
import { useState } from 'react';
import i18next from 'i18next';
import { useTranslation } from 'react-i18next';
import { mayUse } from '../access';
import { consoleApi, type ApprovalRequest, type ServiceName } from '../api/console';
import { servicesApi } from '../api/services';
import { wordedChangeRows, type ChangeRow, type ChangeWords } from '../changes';
import { useSignedIn } from '../components/guards';
import { LoadFailed } from '../components/LoadFailed';
import { PageTitle } from '../components/PageTitle';
import { formatShanghaiTime } from '../format';
import { problemMessage } from '../problems';

export const INBOX_KEY = ['inbox'] as const;

export function useInbox() {
  return useQuery({ queryKey: INBOX_KEY, queryFn: consoleApi.inbox });
}

/** Services the inbox could not ask: their requests are missing from the list, and the page says so. */
export function UnavailableServices({ services }: { services: ServiceName[] | undefined }) {
  const { t } = useTranslation();
  if (services === undefined || services.length === 0) return null;
  const names = services.map((service) => t(`services.${service}`, { defaultValue: service })).join('、');
  return (
    <Alert
      style={{ marginBottom: 16 }}
      type="warning"
      showIcon
      title={t('inbox.unavailable', { services: names })}
    />
  );
}

/**
 * The services know the requester by account id (a token's subject). Whoever may read the people
 * list sees the name; others see the id.
 */
function useRequesterName(): (request: ApprovalRequest) => string {
  const { account } = useSignedIn();
  const people = useQuery({
    queryKey: ['accounts'],
    queryFn: consoleApi.accounts,
    enabled: mayUse(account.roles, 'people'),
  });
  const { t } = useTranslation();
  const named = (name: string, username: string | null | undefined) =>
    username ? t('inbox.person', { name, username }) : name;
  return (request) => {
    if (request.requested_by_display_name)
      return named(request.requested_by_display_name, request.requested_by_username);
    const id = request.requested_by.replace(/^operator:/, '');
    const person = people.data?.data.find((candidate) => candidate.id === id);
    return person === undefined ? id : named(person.display_name, person.username);
  };
}

type Decision = 'approve' | 'reject';

/** The action in the page's language; an action the page does not know has only the service's summary. */
function actionName(t: TFunction, request: ApprovalRequest): string | undefined {
  const key = `actions.${request.action}`;
  return i18next.exists(key) ? t(key) : undefined;
}

/**
 * What the request is, in the page's words: the action's name (the service's English summary as
 * its fallback), and the summary as secondary text in English.
 */
function RequestHeadline({ request }: { request: ApprovalRequest }) {
  const { t, i18n } = useTranslation();
  const name = actionName(t, request);
  const subject = subjectName(request);
  return (
    <>
      <Typography.Paragraph strong style={{ marginBottom: 8 }}>
        {name === undefined
          ? request.summary
          : subject === undefined
            ? name
            : t('inbox.headline', { action: name, subject })}
      </Typography.Paragraph>
      {name !== undefined && i18n.language === 'en' && (
        <Typography.Paragraph type="secondary">{request.summary}</Typography.Paragraph>
      )}
    </>
  );
}

/** The name of what the request is about, when its before/after carries one (a merchant, a rule). */
function subjectName(request: ApprovalRequest): string | undefined {
  for (const side of [request.after, request.before]) {
    if (side === null || typeof side !== 'object') continue;
    const record = side as Record<string, unknown>;
    for (const key of ['legal_name', 'name']) {
      const value = record[key];
      if (typeof value === 'string' && value !== '') return value;
    }
  }
  return undefined;
}

function useChangeWords(): ChangeWords {
  const { t } = useTranslation();
  const table = (key: string) => t(key, { returnObjects: true }) as unknown as Record<string, string>;
  return {
    fields: table('fields'),
    statuses: {
      merchant: table('merchants.statuses'),
      rule: table('rules.statuses'),
      settlement_batch: table('settlement.statuses'),
    },
    values: t('values', { returnObjects: true }) as unknown as Record<string, Record<string, string>>,
    yes: t('common.yes'),
    no: t('common.no'),
    separator: ' · ',
  };
}

function Changes({ request }: { request: ApprovalRequest }) {
  const { t } = useTranslation();
  const [showUnchanged, setShowUnchanged] = useState(false);
  const words = useChangeWords();
  const rows = wordedChangeRows(request.target_type, request.before, request.after, words);
  if (rows.length === 0) return <span>{t('inbox.noChanges')}</span>;
  const unchanged = rows.filter((row) => !row.changed).length;
  const shown = showUnchanged ? rows : rows.filter((row) => row.changed);
  return (
    <>
      <Table<ChangeRow & { path: string }>
        size="small"
        pagination={false}
        rowKey="path"
        tableLayout="fixed"
        dataSource={shown}
        locale={{ emptyText: t('inbox.noChanges') }}
        columns={[
          { title: t('inbox.field'), dataIndex: 'field', width: '30%', render: breakable },
          { title: t('inbox.before'), dataIndex: 'before', render: breakable },
          {
            title: t('inbox.after'),
            dataIndex: 'after',
            render: (value: string, row) =>
              row.changed ? <strong>{breakable(value)}</strong> : breakable(value),
          },
        ]}
      />
      {unchanged > 0 && (
        <Button type="link" style={{ paddingInline: 0 }} onClick={() => setShowUnchanged(!showUnchanged)}>
          {showUnchanged ? t('inbox.hideUnchanged') : t('inbox.showUnchanged', { count: unchanged })}
        </Button>
      )}
    </>
  );
}

/** Long values (ids, JSON of a list) wrap inside their cell instead of widening the table. */
function breakable(value: string) {
  return <span style={{ overflowWrap: 'anywhere' }}>{value}</span>;
}

function DecisionDialog({
  request,
  decision,
  onClose,
}: {
  request: ApprovalRequest;
  decision: Decision;
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const [form] = Form.useForm<{ reason?: string }>();
  const decide = useMutation({
    mutationFn: (reason: string | undefined) =>
      servicesApi.decide(request.service, request.id, decision, reason),
    onSuccess: () => {
      void message.success(decision === 'approve' ? t('inbox.approved') : t('inbox.rejected'));
      void queryClient.invalidateQueries({ queryKey: INBOX_KEY });
      onClose();
    },
  });
  return (
    <Modal
      open
      title={decision === 'approve' ? t('inbox.approveTitle') : t('inbox.rejectTitle')}
      okText={decision === 'approve' ? t('inbox.approve') : t('inbox.reject')}
      okButtonProps={{ danger: decision === 'reject', loading: decide.isPending }}
      cancelText={t('common.cancel')}
      onCancel={onClose}
      onOk={() =>
        form.validateFields().then(
          (values) => decide.mutate(values.reason?.trim()),
          () => undefined, // the form shows what is missing
        )
      }
      destroyOnHidden
    >
      <RequestHeadline request={request} />
      {decide.isError && (
        <Alert
          role="alert"
          style={{ marginBottom: 16 }}
          type="error"
          showIcon
          title={problemMessage(t, decide.error)}
        />
      )}
      <Form form={form} layout="vertical" requiredMark={decision === 'reject'}>
        <Form.Item
          label={decision === 'approve' ? t('inbox.reasonOptional') : t('inbox.reason')}
          name="reason"
          rules={
            decision === 'reject'
              ? [{ required: true, whitespace: true, message: t('inbox.reasonRequired') }]
              : []
          }
        >
          <Input.TextArea rows={3} maxLength={500} />
        </Form.Item>
      </Form>
    </Modal>
  );
}

function InboxItem({
  request,
  who,
  onDecide,
}: {
  request: ApprovalRequest;
  who: string;
  onDecide: (decision: Decision) => void;
}) {
  const { t } = useTranslation();
  return (
    <Card
      data-testid="inbox-item"
      title={
        <span style={{ whiteSpace: 'normal' }}>
          {t(`services.${request.service}`, { defaultValue: request.service })} ·{' '}
          {actionName(t, request) ?? request.action}
        </span>
      }
      style={{ marginBottom: 16 }}
      extra={
        <Space>
          <Button type="primary" onClick={() => onDecide('approve')}>
            {t('inbox.approve')}
          </Button>
          <Button danger onClick={() => onDecide('reject')}>
            {t('inbox.reject')}
          </Button>
        </Space>
      }
    >
      <RequestHeadline request={request} />
      <Descriptions size="small" column={{ xs: 1, md: 2 }} style={{ marginBottom: 12 }}>
        <Descriptions.Item label={t('inbox.requestedBy')}>{who}</Descriptions.Item>
        <Descriptions.Item label={t('inbox.requestedAt')}>
          {formatShanghaiTime(request.requested_at)}
        </Descriptions.Item>
        <Descriptions.Item label={t('inbox.service')}>
          {t(`services.${request.service}`, { defaultValue: request.service })}
        </Descriptions.Item>
        <Descriptions.Item label={t('inbox.action')}>
          <Tag>{actionName(t, request) ?? request.action}</Tag>
        </Descriptions.Item>
        <Descriptions.Item label={t('inbox.target')}>
          <span style={{ overflowWrap: 'anywhere' }}>
            {`${t(`targets.${request.target_type}`, { defaultValue: request.target_type })} ${request.target_id}`}
          </span>
        </Descriptions.Item>
        <Descriptions.Item label={t('inbox.requiredRole')}>
          {t(`roles.${request.required_role}`, { defaultValue: request.required_role })}
        </Descriptions.Item>
      </Descriptions>
      <Changes request={request} />
    </Card>
  );
}

export function InboxPage() {
  const { t } = useTranslation();
  const inbox = useInbox();
  const requesterName = useRequesterName();
  const [deciding, setDeciding] = useState<{ request: ApprovalRequest; decision: Decision } | null>(null);
  return (
    <>
      <PageTitle>{t('inbox.title')}</PageTitle>
      <LoadFailed query={inbox} />
      <UnavailableServices services={inbox.data?.unavailable} />
      {inbox.isPending && <Card loading />}
      {inbox.data?.data.length === 0 && <Empty description={t('inbox.empty')} />}
      {inbox.data?.data.map((request) => (
        <InboxItem
          key={`${request.service}:${request.id}`}
          request={request}
          who={requesterName(request)}
          onDecide={(decision) => setDeciding({ request, decision })}
        />
      ))}
      {deciding !== null && (
        <DecisionDialog
          request={deciding.request}
          decision={deciding.decision}
          onClose={() => setDeciding(null)}
        />
      )}
    </>
  );
}
