import { Button, Result } from 'antd';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { PageTitle } from '../components/PageTitle';

function BackHome() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  return (
    <Button type="primary" onClick={() => void navigate('/')}>
      {t('common.backHome')}
    </Button>
  );
}

/** The clear 403: shown at /forbidden and in place of any page the person's role may not use. */
export function ForbiddenPage() {
  const { t } = useTranslation();
  return (
    <Result
      status="403"
      title={<PageTitle centred>{t('forbidden.title')}</PageTitle>}
      subTitle={t('forbidden.detail')}
      extra={<BackHome />}
    />
  );
}

export function NotFoundPage() {
  const { t } = useTranslation();
  return (
    <Result
      status="404"
      title={<PageTitle centred>{t('notFound.title')}</PageTitle>}
      subTitle={t('notFound.detail')}
      extra={<BackHome />}
    />
  );
}
