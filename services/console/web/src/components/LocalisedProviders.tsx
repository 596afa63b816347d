import { App, ConfigProvider } from 'antd';
import enUS from 'antd/locale/en_US';
import zhCN from 'antd/locale/zh_CN';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

/**
 * antd in the person's language, with the colours text is drawn in darkened to WCAG AA (4.5:1 on
 * white; axe measured antd's defaults at 3.3–4.1:1): primary #1677ff → #0958d9 (6.0:1), error
 * #ff4d4f → #cf1322 (5.9:1), secondary and description text 45% → 62% black (5.9:1). Hover and
 * active shades go darker, not lighter: antd's derived hover #2e7ae6 gave white button text 4.16:1
 * (axe, a sign-in button still under the pointer after its click) — #003eb3 is 9.0:1, #002c8c 12:1.
 */
const ACCESSIBLE_COLOURS = {
  colorPrimary: '#0958d9',
  colorPrimaryHover: '#003eb3',
  colorPrimaryActive: '#002c8c',
  colorLink: '#0958d9',
  colorLinkHover: '#003eb3',
  colorLinkActive: '#002c8c',
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
