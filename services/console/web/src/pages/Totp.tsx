import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, Button, Form, Input, Spin, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { Link, Navigate, useLocation } from 'react-router';
import { consoleApi, type TotpEnrolment } from '../api/console';
import { CentredCard } from '../components/CentredCard';
import { Loading } from '../components/guards';
import { problemMessage } from '../problems';
import { rememberSession, useSession } from '../session';

/** The secret in groups of four, easier to type into an authenticator app by hand. */
function grouped(secret: string): string {
  return secret.replace(/(.{4})(?=.)/g, '$1 ');
}

function EnrolmentCode({ enrolment }: { enrolment: TotpEnrolment }) {
  const { t } = useTranslation();
  // The API's SVG is shown as an image, never put into the page's DOM.
  const source = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(enrolment.qr_svg)}`;
  return (
    <div style={{ marginBottom: 16 }}>
      <div style={{ display: 'grid', placeItems: 'center', marginBottom: 12 }}>
        <img src={source} alt={t('totp.qrAlt')} width={200} height={200} style={{ background: '#fff' }} />
      </div>
      <Typography.Paragraph style={{ marginBottom: 4 }}>{t('totp.secretLabel')}</Typography.Paragraph>
      <Typography.Paragraph copyable={{ text: enrolment.secret }}>
        <Typography.Text code style={{ fontSize: 15 }}>
          {grouped(enrolment.secret)}
        </Typography.Text>
      </Typography.Paragraph>
    </div>
  );
}

export function TotpPage() {
  const { t } = useTranslation();
  const location = useLocation();
  const from = (location.state as { from?: string } | null)?.from;
  const queryClient = useQueryClient();
  const session = useSession();
  const enrolling = session.data?.stage === 'totp_enrolment_required';
  // A query, not a mutation, so a re-render (or React's strict double effect) does not ask twice.
  const enrolment = useQuery({
    queryKey: ['totp-enrolment', session.data?.account.id],
    queryFn: consoleApi.startTotpEnrolment,
    enabled: enrolling,
    staleTime: Infinity,
    gcTime: Infinity,
  });
  const verify = useMutation({
    mutationFn: (values: { code: string }) => consoleApi.verifyTotp(values.code.replace(/\s/g, '')),
    onSuccess: (answer) => {
      queryClient.removeQueries({ queryKey: ['totp-enrolment'] });
      rememberSession(queryClient, answer); // signed_in: the Navigate below takes the person on
    },
  });

  if (session.isPending) return <Loading />;
  if (session.data === null || session.data === undefined) return <Navigate to="/sign-in" replace />;
  if (session.data.stage === 'signed_in') return <Navigate to={from ?? '/'} replace />;

  return (
    <CentredCard title={enrolling ? t('totp.enrolTitle') : t('totp.enterTitle')}>
      <Typography.Paragraph>{enrolling ? t('totp.enrolIntro') : t('totp.enterIntro')}</Typography.Paragraph>
      {enrolling && enrolment.isPending && (
        <div style={{ display: 'grid', placeItems: 'center', padding: 24 }}>
          <Spin />
        </div>
      )}
      {enrolling && enrolment.isError && (
        <Alert
          style={{ marginBottom: 16 }}
          type="error"
          showIcon
          title={problemMessage(t, enrolment.error)}
        />
      )}
      {enrolling && enrolment.data !== undefined && <EnrolmentCode enrolment={enrolment.data} />}
      {verify.isError && (
        <Alert
          role="alert"
          style={{ marginBottom: 16 }}
          type="error"
          showIcon
          title={problemMessage(t, verify.error)}
        />
      )}
      <Form layout="vertical" requiredMark={false} onFinish={(values) => verify.mutate(values)}>
        <Form.Item
          label={t('totp.code')}
          name="code"
          rules={[{ required: true, pattern: /^\s*\d{3}\s?\d{3}\s*$/, message: t('totp.codeRequired') }]}
        >
          <Input autoComplete="one-time-code" inputMode="numeric" maxLength={7} autoFocus />
        </Form.Item>
        <Button type="primary" htmlType="submit" block loading={verify.isPending}>
          {t('totp.submit')}
        </Button>
      </Form>
      <div style={{ marginTop: 16, textAlign: 'center' }}>
        <Link to="/sign-in">{t('totp.backToSignIn')}</Link>
      </div>
    </CentredCard>
  );
}
