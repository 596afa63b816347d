import { startService } from '@puhui/service';
import { expectServiceBootsAndStops } from '@puhui/testing';
import { loadDiscountRulesConfig } from '../src/config';
import { discountRulesService } from '../src/service';

it('boots on the real Postgres, Redis and Kafka, reports ready, and shuts down', async () => {
  await expectServiceBootsAndStops((environment) =>
    startService(discountRulesService(loadDiscountRulesConfig(environment))),
  );
});
