import type { TFunction } from 'i18next';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, App, Button, Checkbox, Form, Input, Modal, Space, Table, Tag, Typography } from 'antd';
import { useState, type HTMLAttributes } from 'react';
import { useTranslation } from 'react-i18next';
import { ALL_ROLES, managesPeople } from '../access';
import { consoleApi, type Account, type Invitation } from '../api/console';
import { useSignedIn } from '../components/guards';
import { LoadFailed } from '../components/LoadFailed';
import { PageTitle } from '../components/PageTitle';
import { StatusTag, type Tone } from '../components/StatusTag';
import { formatShanghaiTime } from '../format';
import { fieldErrors, problemMessage } from '../problems';

const ACCOUNTS_KEY = ['accounts'] as const;

/** validateFields rejects when a field is wrong; the form already shows why. */
const ignoreInvalid = () => undefined;

type Dialog =
  | { kind: 'invite' }
  | { kind: 'invited'; account: Account; invitation: Invitation }
  | { kind: 'roles'; account: Account }
  | { kind: 'disable'; account: Account };

/** antd Form validator: one account holds admin or finance, never both (the API says so too). */
function useRolesRule() {
  const { t } = useTranslation();
  return {
    validator: async (_: unknown, roles: string[] | undefined) => {
      if (roles === undefined || roles.length === 0) throw new Error(t('people.rolesRequired'));
      if (roles.includes('admin') && roles.includes('finance'))
        throw new Error(t('people.adminFinanceConflict'));
    },
  };
}

/** Form.Item hands its control value and onChange: passed on to the checkbox group. */
function RoleChoices(props: { value?: string[]; onChange?: (roles: string[]) => void; id?: string }) {
  const { t } = useTranslation();
  return (
    <Checkbox.Group
      {...props}
      options={ALL_ROLES.map((role) => ({ value: role, label: t(`roles.${role}`) }))}
    />
  );
}

function useAccountMutation<V>(
  call: (values: V) => Promise<unknown>,
  onDone: (answer: unknown) => void,
  onError: (error: unknown) => void,
) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: call,
    onSuccess: (answer) => {
      void queryClient.invalidateQueries({ queryKey: ACCOUNTS_KEY });
      onDone(answer);
    },
    onError,
  });
}

/** The form fields an API refusal may name (see fieldErrors). */
const fieldNames = ['username', 'display_name', 'roles', 'merchant_id', 'reason'];

function FormDialog<V extends object>({
  title,
  okText,
  danger = false,
  call,
  onClose,
  onDone,
  initialValues,
  children,
}: {
  title: string;
  okText: string;
  danger?: boolean;
  call: (values: V) => Promise<unknown>;
  onClose: () => void;
  onDone: (answer: unknown) => void;
  initialValues?: Partial<V>;
  children: React.ReactNode;
}) {
  const { t } = useTranslation();
  const [form] = Form.useForm<V>();
  const mutation = useAccountMutation(call, onDone, (error) =>
    form.setFields(fieldErrors(t, error, fieldNames) as Parameters<typeof form.setFields>[0]),
  );
  return (
    <Modal
      open
      title={title}
      okText={okText}
      cancelText={t('common.cancel')}
      okButtonProps={{ danger, loading: mutation.isPending }}
      onCancel={onClose}
      onOk={() => form.validateFields().then((values) => mutation.mutate(values), ignoreInvalid)}
      destroyOnHidden
    >
      {mutation.isError && (
        <Alert
          role="alert"
          style={{ marginBottom: 16 }}
          type="error"
          showIcon
          title={problemMessage(t, mutation.error)}
        />
      )}
      <Form<V> form={form} layout="vertical" initialValues={initialValues}>
        {children}
      </Form>
    </Modal>
  );
}

interface InviteValues {
  username: string;
  display_name: string;
  roles: string[];
  merchant_id?: string;
}

function InviteDialog({ onClose, onInvited }: { onClose: () => void; onInvited: (answer: unknown) => void }) {
  const { t } = useTranslation();
  const rolesRule = useRolesRule();
  return (
    <FormDialog<InviteValues>
      title={t('people.invite')}
      okText={t('people.invite')}
      onClose={onClose}
      onDone={onInvited}
      initialValues={{ roles: [] }}
      call={(values) =>
        consoleApi.invite({
          username: values.username.trim(),
          display_name: values.display_name.trim(),
          roles: values.roles,
          ...(values.roles.includes('merchant_staff') && values.merchant_id
            ? { merchant_id: values.merchant_id.trim() }
            : {}),
        })
      }
    >
      <Form.Item
        label={t('people.username')}
        name="username"
        rules={[{ required: true, whitespace: true, message: t('people.usernameRequired') }]}
      >
        <Input autoComplete="off" />
      </Form.Item>
      <Form.Item
        label={t('people.displayName')}
        name="display_name"
        rules={[{ required: true, whitespace: true, message: t('people.displayNameRequired') }]}
      >
        <Input autoComplete="off" />
      </Form.Item>
      <Form.Item label={t('people.roles')} name="roles" rules={[rolesRule]}>
        <RoleChoices />
      </Form.Item>
      <Form.Item noStyle dependencies={['roles']}>
        {({ getFieldValue }) =>
          (getFieldValue('roles') as string[] | undefined)?.includes('merchant_staff') ? (
            <Form.Item
              label={t('people.merchantId')}
              name="merchant_id"
              rules={[{ required: true, whitespace: true, message: t('people.merchantRequired') }]}
            >
              <Input autoComplete="off" />
            </Form.Item>
          ) : null
        }
      </Form.Item>
    </FormDialog>
  );
}

function InvitedDialog({
  account,
  invitation,
  onClose,
}: {
  account: Account;
  invitation: Invitation;
  onClose: () => void;
}) {
  const { t } = useTranslation();
  return (
    <Modal
      open
      title={t('people.invitationTitle')}
      onCancel={onClose}
      footer={
        <Button type="primary" onClick={onClose}>
          {t('common.confirm')}
        </Button>
      }
    >
      <Typography.Paragraph>
        {t('people.invitationOnce', {
          name: account.display_name,
          expires: formatShanghaiTime(invitation.expires_at),
        })}
      </Typography.Paragraph>
      <Typography.Paragraph strong>{t('people.invitationLink')}</Typography.Paragraph>
      <Typography.Paragraph copyable code style={{ wordBreak: 'break-all' }}>
        {invitation.url}
      </Typography.Paragraph>
    </Modal>
  );
}

const ACCOUNT_STATUS_TONES: Record<string, Tone> = {
  active: 'good',
  invited: 'info',
  disabled: 'bad',
  locked: 'waiting',
};

/** Locked: an active account whose sign-in is refused until `locked_until` (repeated failures). */
export function isLocked(account: Pick<Account, 'status' | 'locked_until'>, now = Date.now()): boolean {
  return (
    account.status === 'active' &&
    typeof account.locked_until === 'string' &&
    Date.parse(account.locked_until) > now
  );
}

function statusTag(t: TFunction, account: Account) {
  const status = isLocked(account) ? 'locked' : account.status;
  return (
    <Space size={[4, 2]} wrap>
      <StatusTag tone={ACCOUNT_STATUS_TONES[status] ?? 'neutral'}>
        {t(`people.statuses.${status}`, { defaultValue: status })}
      </StatusTag>
      {status === 'locked' && (
        <Typography.Text type="secondary" className="nowrap">
          {t('people.lockedUntil', { time: formatShanghaiTime(account.locked_until) })}
        </Typography.Text>
      )}
    </Space>
  );
}

export function PeoplePage() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const { account: me } = useSignedIn();
  const manages = managesPeople(me.roles);
  const accounts = useQuery({ queryKey: ACCOUNTS_KEY, queryFn: consoleApi.accounts });
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const rolesRule = useRolesRule();
  const close = () => setDialog(null);

  return (
    <>
      <PageTitle
        extra={
          manages ? (
            <Button type="primary" onClick={() => setDialog({ kind: 'invite' })}>
              {t('people.invite')}
            </Button>
          ) : undefined
        }
      >
        {t('people.title')}
      </PageTitle>
      {!manages && <Alert style={{ marginBottom: 16 }} type="info" showIcon title={t('common.readOnly')} />}
      <LoadFailed query={accounts} />
      <Table<Account>
        rowKey="id"
        loading={accounts.isPending}
        dataSource={accounts.data?.data ?? []}
        pagination={{ pageSize: 50, hideOnSinglePage: true }}
        onRow={() => ({ 'data-testid': 'person-row' }) as HTMLAttributes<HTMLElement>}
        columns={[
          { title: t('people.username'), dataIndex: 'username' },
          {
            title: t('people.displayName'),
            dataIndex: 'display_name',
            render: (name: string) => <span className="nowrap">{name}</span>,
          },
          {
            title: t('people.roles'),
            dataIndex: 'roles',
            render: (roles: string[]) => roles.map((role) => <Tag key={role}>{t(`roles.${role}`)}</Tag>),
          },
          { title: t('people.merchantId'), dataIndex: 'merchant_id', render: (value) => value ?? '—' },
          {
            title: t('people.status'),
            dataIndex: 'status',
            render: (_: string, account: Account) => statusTag(t, account),
          },
          {
            title: t('people.totp'),
            dataIndex: 'totp_enrolled',
            render: (enrolled: boolean) => (enrolled ? t('common.yes') : t('common.no')),
          },
          {
            title: t('people.createdAt'),
            dataIndex: 'created_at',
            render: (at: string) => <span className="nowrap">{formatShanghaiTime(at)}</span>,
          },
          ...(manages
            ? [
                {
                  title: t('people.actions'),
                  key: 'actions',
                  render: (_: unknown, account: Account) =>
                    account.status === 'disabled' || account.id === me.id ? null : (
                      <Space>
                        <Button size="small" onClick={() => setDialog({ kind: 'roles', account })}>
                          {t('people.changeRoles')}
                        </Button>
                        <Button size="small" danger onClick={() => setDialog({ kind: 'disable', account })}>
                          {t('people.disable')}
                        </Button>
                      </Space>
                    ),
                },
              ]
            : []),
        ]}
      />
      {dialog?.kind === 'invite' && (
        <InviteDialog
          onClose={close}
          onInvited={(answer) =>
            setDialog({ kind: 'invited', ...(answer as { account: Account; invitation: Invitation }) })
          }
        />
      )}
      {dialog?.kind === 'invited' && (
        <InvitedDialog account={dialog.account} invitation={dialog.invitation} onClose={close} />
      )}
      {dialog?.kind === 'roles' && (
        <FormDialog<{ roles: string[] }>
          title={`${t('people.changeRoles')} · ${dialog.account.display_name}`}
          okText={t('common.confirm')}
          initialValues={{ roles: dialog.account.roles }}
          call={(values) => consoleApi.updateAccount(dialog.account.id, { roles: values.roles })}
          onClose={close}
          onDone={() => {
            void message.success(t('people.saved'));
            close();
          }}
        >
          <Form.Item label={t('people.roles')} name="roles" rules={[rolesRule]}>
            <RoleChoices />
          </Form.Item>
        </FormDialog>
      )}
      {dialog?.kind === 'disable' && (
        <FormDialog<{ reason: string }>
          title={t('people.disableTitle', { name: dialog.account.display_name })}
          okText={t('people.disable')}
          danger
          call={(values) => consoleApi.disableAccount(dialog.account.id, values.reason.trim())}
          onClose={close}
          onDone={() => {
            void message.success(t('people.disabled'));
            close();
          }}
        >
          <Form.Item
            label={t('people.disableReason')}
            name="reason"
            rules={[{ required: true, whitespace: true, message: t('people.reasonRequired') }]}
          >
            <Input.TextArea rows={3} maxLength={500} />
          </Form.Item>
        </FormDialog>
      )}
    </>
  );
}
