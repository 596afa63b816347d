import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Alert, Button, Form, Input, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { Navigate, useLocation, useNavigate, useSearchParams } from 'react-router';
import { consoleApi } from '../api/console';
import { CentredCard } from '../components/CentredCard';
import { Loading } from '../components/guards';
import { problemMessage } from '../problems';
import { EXPIRED_REASON, rememberSession, useSession, wasSessionExpired } from '../session';

interface SignInState {
  from?: string;
}

export function SignInPage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const location = useLocation();
  const state = (location.state ?? {}) as SignInState;
  const [search] = useSearchParams();
  // Sent here because the session ended under the person (idle or absolute timeout, ended elsewhere).
  const expired = wasSessionExpired() || search.get('reason') === EXPIRED_REASON;
  const queryClient = useQueryClient();
  const session = useSession();
  const signIn = useMutation({
    mutationFn: (values: { username: string; password: string }) =>
      consoleApi.signIn(values.username.trim(), values.password),
    onSuccess: (answer) => {
      rememberSession(queryClient, answer);
      // signed_in: the Navigate below takes the person on once the session is remembered.
      if (answer.stage !== 'signed_in')
        void navigate('/sign-in/totp', { replace: true, state: { from: state.from } });
    },
  });

  if (session.isPending) return <Loading />;
  // Already signed in (or just now): on to the page that sent the person here.
  if (session.data?.stage === 'signed_in') return <Navigate to={state.from ?? '/'} replace />;

  return (
    <CentredCard title={t('signIn.title')}>
      <Typography.Paragraph type="secondary">{t('signIn.subtitle')}</Typography.Paragraph>
      {expired && !signIn.isError && (
        <Alert style={{ marginBottom: 16 }} type="info" showIcon title={t('signIn.expired')} />
      )}
      {signIn.isError && (
        <Alert
          role="alert"
          style={{ marginBottom: 16 }}
          type="error"
          showIcon
          title={problemMessage(t, signIn.error)}
        />
      )}
      <Form layout="vertical" requiredMark={false} onFinish={(values) => signIn.mutate(values)}>
        <Form.Item
          label={t('signIn.username')}
          name="username"
          rules={[{ required: true, whitespace: true, message: t('signIn.usernameRequired') }]}
        >
          <Input autoComplete="username" autoFocus />
        </Form.Item>
        <Form.Item
          label={t('signIn.password')}
          name="password"
          rules={[{ required: true, message: t('signIn.passwordRequired') }]}
        >
          <Input.Password autoComplete="current-password" />
        </Form.Item>
        <Button type="primary" htmlType="submit" block loading={signIn.isPending}>
          {t('signIn.submit')}
        </Button>
      </Form>
    </CentredCard>
  );
}
