import { useMutation } from '@tanstack/react-query';
import { Alert, Button, Form, Input, Result, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { Link, useLocation } from 'react-router';
import { ApiProblem } from '../api/http';
import { consoleApi } from '../api/console';
import { CentredCard } from '../components/CentredCard';
import { fieldErrors, problemMessage } from '../problems';

const PASSWORD_LENGTH_MIN = 12;

/**
 * The console puts the token in the link's fragment (/invitation#token=…), so it never reaches a
 * server log or a Referer; ?token=… is read too.
 */
function invitationToken(hash: string, search: string): string {
  return (
    new URLSearchParams(hash.replace(/^#/, '')).get('token') ?? new URLSearchParams(search).get('token') ?? ''
  );
}

export function InvitationPage() {
  const { t } = useTranslation();
  const location = useLocation();
  const token = invitationToken(location.hash, location.search);
  const [form] = Form.useForm<{ password: string; confirm: string }>();
  const accept = useMutation({
    mutationFn: (values: { password: string }) => consoleApi.acceptInvitation(token, values.password),
    onError: (error) =>
      form.setFields(
        fieldErrors(t, error, ['password']).map((field) => ({ ...field, name: 'password' as const })),
      ),
  });

  if (accept.isSuccess) {
    return (
      <CentredCard title={t('invitation.done')}>
        <Result
          status="success"
          subTitle={t('invitation.doneDetail')}
          extra={<Link to="/sign-in">{t('invitation.goSignIn')}</Link>}
        />
      </CentredCard>
    );
  }
  return (
    <CentredCard title={t('invitation.title')}>
      {token === '' ? (
        <Alert type="error" showIcon title={t('invitation.missingToken')} />
      ) : (
        <>
          <Typography.Paragraph>{t('invitation.intro')}</Typography.Paragraph>
          {accept.isError && (
            <Alert
              role="alert"
              style={{ marginBottom: 16 }}
              type="error"
              showIcon
              title={
                accept.error instanceof ApiProblem && accept.error.status === 404
                  ? t('invitation.invalidLink')
                  : problemMessage(t, accept.error)
              }
            />
          )}
          <Form
            form={form}
            layout="vertical"
            requiredMark={false}
            onFinish={(values) => accept.mutate(values)}
          >
            <Form.Item
              label={t('invitation.password')}
              name="password"
              rules={[
                { required: true, min: PASSWORD_LENGTH_MIN, message: t('invitation.passwordRequired') },
              ]}
            >
              <Input.Password autoComplete="new-password" />
            </Form.Item>
            <Form.Item
              label={t('invitation.confirmPassword')}
              name="confirm"
              dependencies={['password']}
              rules={[
                { required: true, message: t('invitation.passwordRequired') },
                ({ getFieldValue }) => ({
                  validator: async (_, value) => {
                    if (value && value !== getFieldValue('password'))
                      throw new Error(t('invitation.mismatch'));
                  },
                }),
              ]}
            >
              <Input.Password autoComplete="new-password" />
            </Form.Item>
            <Button type="primary" htmlType="submit" block loading={accept.isPending}>
              {t('invitation.submit')}
            </Button>
          </Form>
        </>
      )}
    </CentredCard>
  );
}
