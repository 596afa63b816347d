import { createBrowserRouter } from 'react-router';
import type { PageKey } from './access';
import { RequirePage, RequireSignedIn } from './components/guards';
import { Shell } from './components/Shell';
import { ForbiddenPage, NotFoundPage } from './pages/Forbidden';
import { HomePage } from './pages/Home';
import { InboxPage } from './pages/Inbox';
import { InvitationPage } from './pages/Invitation';
import { MerchantPage } from './pages/Merchant';
import { MerchantsPage } from './pages/Merchants';
import { PeoplePage } from './pages/People';
import { SessionsPage } from './pages/Sessions';
import { SettlementPage } from './pages/Settlement';
import { SignInPage } from './pages/SignIn';
import { TotpPage } from './pages/Totp';

const guarded = (page: PageKey, element: React.ReactNode) => <RequirePage page={page}>{element}</RequirePage>;

export function createConsoleRouter() {
  return createBrowserRouter([
    { path: '/sign-in', element: <SignInPage /> },
    { path: '/sign-in/totp', element: <TotpPage /> },
    { path: '/invitation', element: <InvitationPage /> },
    {
      path: '/',
      element: (
        <RequireSignedIn>
          <Shell />
        </RequireSignedIn>
      ),
      children: [
        { index: true, element: guarded('home', <HomePage />) },
        { path: 'inbox', element: guarded('inbox', <InboxPage />) },
        { path: 'sessions', element: guarded('sessions', <SessionsPage />) },
        { path: 'people', element: guarded('people', <PeoplePage />) },
        { path: 'merchants', element: guarded('merchants', <MerchantsPage />) },
        { path: 'merchants/:id', element: guarded('merchants', <MerchantPage />) },
        { path: 'settlement', element: guarded('settlement', <SettlementPage />) },
        { path: 'forbidden', element: <ForbiddenPage /> },
        { path: '*', element: <NotFoundPage /> },
      ],
    },
  ]);
}
