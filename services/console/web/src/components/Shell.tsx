import {
  AuditOutlined,
  DesktopOutlined,
  HomeOutlined,
  InboxOutlined,
  LogoutOutlined,
  ShopOutlined,
  TeamOutlined,
} from '@ant-design/icons';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Button, Layout, Menu, Select, Space, Tag, Typography } from 'antd';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Outlet, useLocation, useNavigate } from 'react-router';
import { PAGE_PATHS, pagesFor, type PageKey } from '../access';
import { consoleApi } from '../api/console';
import { setLanguage, type Language } from '../i18n';
import { forgetSession } from '../session';
import { useSignedIn } from './guards';

const ICONS: Record<PageKey, ReactNode> = {
  home: <HomeOutlined />,
  inbox: <InboxOutlined />,
  merchants: <ShopOutlined />,
  settlement: <AuditOutlined />,
  people: <TeamOutlined />,
  sessions: <DesktopOutlined />,
};

export function LanguageSwitch() {
  const { t, i18n } = useTranslation();
  return (
    <Select<Language>
      aria-label={t('language.label')}
      value={i18n.language === 'en' ? 'en' : 'zh-CN'}
      onChange={setLanguage}
      style={{ width: 110 }}
      options={[
        { value: 'zh-CN', label: t('language.zh-CN') },
        { value: 'en', label: t('language.en') },
      ]}
    />
  );
}

function selectedPage(pathname: string, pages: PageKey[]): string[] {
  const page = pages.find((key) => key !== 'home' && pathname.startsWith(PAGE_PATHS[key]));
  return [page ?? (pathname === '/' ? 'home' : '')];
}

export function Shell() {
  const { t } = useTranslation();
  const { account } = useSignedIn();
  const navigate = useNavigate();
  const location = useLocation();
  const queryClient = useQueryClient();
  const pages = pagesFor(account.roles);
  const signOut = useMutation({
    mutationFn: consoleApi.signOut,
    onSettled: () => {
      forgetSession(queryClient);
      void navigate('/sign-in', { replace: true });
    },
  });

  return (
    <Layout style={{ minHeight: '100vh' }}>
      <Layout.Sider breakpoint="lg" collapsedWidth={0} theme="light" width={208}>
        <div style={{ padding: '16px 24px', fontWeight: 600, fontSize: 16 }}>{t('app.name')}</div>
        <nav aria-label={t('nav.label')}>
          <Menu
            mode="inline"
            style={{ borderInlineEnd: 'none' }}
            selectedKeys={selectedPage(location.pathname, pages)}
            onClick={({ key }) => void navigate(PAGE_PATHS[key as PageKey])}
            items={pages.map((page) => ({ key: page, icon: ICONS[page], label: t(`nav.${page}`) }))}
          />
        </nav>
      </Layout.Sider>
      <Layout>
        <Layout.Header
          style={{
            background: '#fff',
            display: 'flex',
            justifyContent: 'flex-end',
            alignItems: 'center',
            padding: '0 24px',
            borderBottom: '1px solid #f0f0f0',
          }}
        >
          <Space size="middle" wrap>
            <span>
              <Typography.Text>{account.display_name}</Typography.Text>{' '}
              {account.roles.map((role) => (
                <Tag key={role}>{t(`roles.${role}`, { defaultValue: role })}</Tag>
              ))}
            </span>
            <LanguageSwitch />
            <Button icon={<LogoutOutlined />} loading={signOut.isPending} onClick={() => signOut.mutate()}>
              {t('shell.signOut')}
            </Button>
          </Space>
        </Layout.Header>
        <Layout.Content style={{ padding: 24 }}>
          <Outlet />
        </Layout.Content>
      </Layout>
    </Layout>
  );
}
