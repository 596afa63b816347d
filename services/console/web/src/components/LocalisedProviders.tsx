import { App, ConfigProvider } from 'antd';
import enUS from 'antd/locale/en_US';
import zhCN from 'antd/locale/zh_CN';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

/**
 * antd in the person's language, with the colours text is drawn in darkened to WCAG AA (4.5:1 on
 * white; axe measured antd's defaults at 3.3–4.1:1): primary #1677ff → #0958d9 (6.0:1), error
 * #ff4d4f → #cf1322 (5.9:1), secondary and description text 45% → 62% black (5.9:1).
 */
const ACCESSIBLE_COLOURS = {
  colorPrimary: '#0958d9',
  colorLink: '#0958d9',
  colorError: '#cf1322',
  colorTextTertiary: 'rgba(0, 0, 0, 0.62)',
  colorTextDescription: 'rgba(0, 0, 0, 0.62)',
};
export function LocalisedProviders({ children }: { children: ReactNode }) {
  const { i18n } = useTranslation();
  return (
    <ConfigProvider locale={i18n.language === 'en' ? enUS : zhCN} theme={{ token: ACCESSIBLE_COLOURS }}>
      <App>{children}</App>
    </ConfigProvider>
  );
}
