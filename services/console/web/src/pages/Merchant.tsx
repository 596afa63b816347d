/**
 * One merchant, its personal data masked as the service answers it (decision 0016). An admin may
 * ask to see chosen fields in full, with a reason the service writes to the audit trail; the
 * plaintext lives in this dialog's state only — no query cache keeps it, and it is gone when the
 * dialog closes.
 */
import { useMutation, useQuery } from '@tanstack/react-query';
import { Alert, Button, Card, Checkbox, Descriptions, Form, Input, Modal, Space } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { REVEALABLE_FIELDS, servicesApi, type Merchant, type RevealableField } from '../api/services';
import { LoadFailed } from '../components/LoadFailed';
import { PageTitle } from '../components/PageTitle';
import { StatusTag } from '../components/StatusTag';
import { problemMessage } from '../problems';
import { useSession } from '../session';
import { MERCHANT_STATUS_TONES } from './Merchants';

/** The service's own bound (8 characters): checked here too, so the form says it before a 400. */
const REASON_LENGTH_MIN = 8;

export function MerchantPage() {
  const { t } = useTranslation();
  const { id = '' } = useParams();
  const session = useSession();
  const isAdmin = session.data?.account.roles.includes('admin') ?? false;
  const [revealing, setRevealing] = useState(false);
  const merchant = useQuery({ queryKey: ['merchant', id], queryFn: () => servicesApi.merchant(id) });
  const shown = merchant.data;
  return (
    <>
      <PageTitle>{shown?.legal_name ?? t('merchants.detail')}</PageTitle>
      <Space direction="vertical" size="middle" style={{ width: '100%' }}>
        <Link to="/merchants">{t('merchants.back')}</Link>
        <LoadFailed query={merchant} />
        {shown !== undefined && (
          <>
            <Alert type="info" showIcon title={t('merchants.maskedNotice')} />
            <MerchantFacts merchant={shown} />
            {isAdmin && (
              <Button type="primary" onClick={() => setRevealing(true)}>
                {t('merchants.reveal')}
              </Button>
            )}
          </>
        )}
      </Space>
      {revealing && <RevealDialog merchantId={id} onClose={() => setRevealing(false)} />}
    </>
  );
}

function MerchantFacts({ merchant }: { merchant: Merchant }) {
  const { t } = useTranslation();
  const none = '—';
  return (
    <>
      <Card title={t('merchants.detail')} loading={false}>
        <Descriptions column={{ xs: 1, md: 2 }} size="small">
          <Descriptions.Item label={t('merchants.id')}>{merchant.id}</Descriptions.Item>
          <Descriptions.Item label={t('common.status')}>
            <StatusTag tone={MERCHANT_STATUS_TONES[merchant.status]}>
              {t(`merchants.statuses.${merchant.status}`)}
            </StatusTag>
          </Descriptions.Item>
          <Descriptions.Item label={t('merchants.legalName')}>{merchant.legal_name}</Descriptions.Item>
          <Descriptions.Item label={t('merchants.displayName')}>
            {merchant.display_name ?? none}
          </Descriptions.Item>
          <Descriptions.Item label={t('merchants.region')}>{merchant.region_code ?? none}</Descriptions.Item>
        </Descriptions>
      </Card>
      <Card title={t('merchants.contact')}>
        <Descriptions column={{ xs: 1, md: 3 }} size="small">
          <Descriptions.Item label={t('merchants.contactName')}>
            {merchant.contact?.name_masked ?? none}
          </Descriptions.Item>
          <Descriptions.Item label={t('merchants.contactMobile')}>
            {merchant.contact?.mobile_masked ?? none}
          </Descriptions.Item>
          <Descriptions.Item label={t('merchants.contactEmail')}>
            {merchant.contact?.email_masked ?? none}
          </Descriptions.Item>
        </Descriptions>
      </Card>
      <Card title={t('merchants.legalRepresentative')}>
        <Descriptions column={{ xs: 1, md: 2 }} size="small">
          <Descriptions.Item label={t('merchants.representativeName')}>
            {merchant.legal_representative?.name_masked ?? none}
          </Descriptions.Item>
          <Descriptions.Item label={t('merchants.idNumber')}>
            {merchant.legal_representative?.id_number_masked ?? none}
          </Descriptions.Item>
        </Descriptions>
      </Card>
      <Card title={t('merchants.settlementAccount')}>
        <Descriptions column={{ xs: 1, md: 3 }} size="small">
          <Descriptions.Item label={t('merchants.accountName')}>
            {merchant.settlement_account?.account_name ?? none}
          </Descriptions.Item>
          <Descriptions.Item label={t('merchants.accountNumber')}>
            {merchant.settlement_account?.account_number_masked ?? none}
          </Descriptions.Item>
          <Descriptions.Item label={t('merchants.bankName')}>
            {merchant.settlement_account?.bank_name ?? none}
          </Descriptions.Item>
        </Descriptions>
      </Card>
    </>
  );
}

function RevealDialog({ merchantId, onClose }: { merchantId: string; onClose: () => void }) {
  const { t } = useTranslation();
  const [form] = Form.useForm<{ fields: RevealableField[]; reason: string }>();
  const reveal = useMutation({
    mutationFn: (values: { fields: RevealableField[]; reason: string }) =>
      servicesApi.revealPersonalData(merchantId, values.fields, values.reason.trim()),
  });
  const revealed = reveal.data;
  return (
    <Modal
      open
      title={t('merchants.revealTitle')}
      okText={t('merchants.revealSubmit')}
      okButtonProps={{ loading: reveal.isPending, disabled: revealed !== undefined }}
      cancelText={t('merchants.close')}
      onCancel={onClose}
      onOk={() =>
        form.validateFields().then(
          (values) => reveal.mutate(values),
          () => undefined, // the form shows what is missing
        )
      }
      destroyOnHidden
    >
      {reveal.isError && (
        <Alert
          role="alert"
          style={{ marginBottom: 16 }}
          type="error"
          showIcon
          title={problemMessage(t, reveal.error)}
        />
      )}
      {revealed === undefined ? (
        <Form form={form} layout="vertical" initialValues={{ fields: [] }}>
          <Form.Item
            label={t('merchants.revealFields')}
            name="fields"
            rules={[{ required: true, type: 'array', min: 1, message: t('merchants.revealFieldsRequired') }]}
          >
            <Checkbox.Group
              options={REVEALABLE_FIELDS.map((field) => ({
                value: field,
                label: t(`merchants.revealable.${field}`),
              }))}
            />
          </Form.Item>
          <Form.Item
            label={t('merchants.revealReason')}
            name="reason"
            rules={[
              {
                required: true,
                validator: async (_: unknown, reason: string | undefined) => {
                  if ((reason ?? '').trim().length < REASON_LENGTH_MIN)
                    throw new Error(t('merchants.revealReasonRequired'));
                },
              },
            ]}
          >
            <Input.TextArea rows={3} maxLength={500} />
          </Form.Item>
        </Form>
      ) : (
        <Descriptions title={t('merchants.revealed')} column={1} size="small" bordered>
          {REVEALABLE_FIELDS.filter((field) => field in revealed.fields).map((field) => (
            <Descriptions.Item key={field} label={t(`merchants.revealable.${field}`)}>
              {revealed.fields[field] ?? '—'}
            </Descriptions.Item>
          ))}
        </Descriptions>
      )}
    </Modal>
  );
}
