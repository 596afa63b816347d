import { Typography } from 'antd';
import { useEffect, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

/** Every page's one h1 (the browser tests find pages by it), also the window's title. */
export function PageTitle({
  children,
  extra,
  centred = false,
}: {
  children: string;
  extra?: ReactNode;
  centred?: boolean;
}) {
  const { t } = useTranslation();
  useEffect(() => {
    document.title = `${children} · ${t('app.name')}`;
  }, [children, t]);
  return (
    <div
      style={{
        display: 'flex',
        alignItems: 'center',
        justifyContent: centred ? 'center' : 'space-between',
        marginBottom: 16,
      }}
    >
      <Typography.Title level={1} style={{ fontSize: 24, margin: 0 }}>
        {children}
      </Typography.Title>
      {extra}
    </div>
  );
}
