import './i18n';
import './styles.css';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { RouterProvider } from 'react-router';
import { onNotSignedIn } from './api/http';
import { LocalisedProviders } from './components/LocalisedProviders';
import { createConsoleRouter } from './routes';
import { forgetSession, markSessionExpired, signInPath } from './session';

const queryClient = new QueryClient({
  defaultOptions: { queries: { retry: false, refetchOnWindowFocus: false } },
});
const router = createConsoleRouter();

// A 401 not_signed_in on any call (the session timed out, or was ended elsewhere) ends up at sign-in.
onNotSignedIn(() => {
  markSessionExpired();
  forgetSession(queryClient);
  if (router.state.location.pathname !== '/sign-in') void router.navigate(signInPath(), { replace: true });
});

const root = document.getElementById('root');
if (root === null) throw new Error('index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <LocalisedProviders>
        <RouterProvider router={router} />
      </LocalisedProviders>
    </QueryClientProvider>
  </StrictMode>,
);
