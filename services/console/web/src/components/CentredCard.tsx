import { Card, Typography } from 'antd';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { LanguageSwitch } from './Shell';
import { PageTitle } from './PageTitle';

/** The frame of the pages a person sees before signing in: sign-in, TOTP, accepting an invitation. */
export function CentredCard({ title, children }: { title: string; children: ReactNode }) {
  const { t } = useTranslation();
  return (
    <div style={{ minHeight: '100vh', background: '#f5f5f5', display: 'flex', flexDirection: 'column' }}>
      <header
        style={{
          display: 'flex',
          justifyContent: 'space-between',
          alignItems: 'center',
          padding: '12px 24px',
        }}
      >
        <Typography.Text strong>{t('app.name')}</Typography.Text>
        <LanguageSwitch />
      </header>
      <main style={{ flex: 1, display: 'grid', placeItems: 'center', padding: 24 }}>
        <Card style={{ width: '100%', maxWidth: 420 }}>
          <PageTitle>{title}</PageTitle>
          {children}
        </Card>
      </main>
    </div>
  );
}
