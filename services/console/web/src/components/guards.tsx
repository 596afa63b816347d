import { Alert, Button, Spin } from 'antd';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Navigate, useLocation } from 'react-router';
import { mayUse, type PageKey } from '../access';
import type { SessionAnswer } from '../api/console';
import { ForbiddenPage } from '../pages/Forbidden';
import { problemMessage } from '../problems';
import { signInPath, useSession } from '../session';

export function Loading() {
  const { t } = useTranslation();
  return (
    <main style={{ display: 'grid', placeItems: 'center', minHeight: '60vh' }}>
      <Spin size="large" />
      <span className="visually-hidden">{t('common.loading')}</span>
    </main>
  );
}

/** Renders its children for a fully signed-in person; otherwise sends them to the step they are at. */
export function RequireSignedIn({ children }: { children: ReactNode }) {
  const { t } = useTranslation();
  const location = useLocation();
  const session = useSession();
  if (session.isPending) return <Loading />;
  if (session.isError) {
    return (
      <main style={{ padding: 48 }}>
        <h1>{t('app.name')}</h1>
        <Alert
          type="error"
          showIcon
          title={problemMessage(t, session.error)}
          action={<Button onClick={() => void session.refetch()}>{t('common.retry')}</Button>}
        />
      </main>
    );
  }
  const answer = session.data;
  if (answer === null)
    return <Navigate to={signInPath()} replace state={{ from: location.pathname + location.search }} />;
  if (answer.stage !== 'signed_in') return <Navigate to="/sign-in/totp" replace />;
  return <>{children}</>;
}

/** The signed-in session; only under RequireSignedIn. */
export function useSignedIn(): SessionAnswer {
  const session = useSession();
  if (session.data === null || session.data === undefined)
    throw new Error('useSignedIn outside RequireSignedIn');
  return session.data;
}

/** A page the person's role may not use shows the 403 page in its place (the URL stays). */
export function RequirePage({ page, children }: { page: PageKey; children: ReactNode }) {
  const { account } = useSignedIn();
  return mayUse(account.roles, page) ? <>{children}</> : <ForbiddenPage />;
}
