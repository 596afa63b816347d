import { App, ConfigProvider } from 'antd';
import enUS from 'antd/locale/en_US';
import zhCN from 'antd/locale/zh_CN';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

/**
 * antd in the person's language. The primary colour is one step darker than antd's default
 * (#1677ff on white is 4.1:1, under WCAG AA's 4.5:1 for text; #0958d9 is 6.0:1).
 */
export function LocalisedProviders({ children }: { children: ReactNode }) {
  const { i18n } = useTranslation();
  return (
    <ConfigProvider
      locale={i18n.language === 'en' ? enUS : zhCN}
      theme={{ token: { colorPrimary: '#0958d9', colorLink: '#0958d9' } }}
    >
      <App>{children}</App>
    </ConfigProvider>
  );
}
