/** @puhui/demo: the demo programme, its loader and the walk-through, for scripts and tests. */
export {
  DEMO_SUBJECTS,
  PuhuiApi,
  demoTokens,
  eventually,
  operatorToken,
  renewingToken,
  serviceUrls,
} from './api';
export type { TokenProvider } from './api';
export type { ServiceUrls } from './api';
export { loadDemoData } from './seed';
export type { DemoData } from './seed';
export { walkThrough } from './walkthrough';
export type { Report } from './walkthrough';
export { exampleCards, FEATURED_MERCHANT, MERCHANTS, CARD_COUNT, BUDGETS } from './programme';
export { checkoutBody } from './flows';
