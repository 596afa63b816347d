import { Alert } from 'antd';
import { useTranslation } from 'react-i18next';
import { problemMessage } from '../problems';

/** A list or page whose data did not load: what the API said, in words. Nothing while it loads or loaded. */
export function LoadFailed({ query }: { query: { isError: boolean; error: unknown } }) {
  const { t } = useTranslation();
  if (!query.isError) return null;
  return (
    <Alert
      type="error"
      showIcon
      title={t('common.loadFailed', { message: problemMessage(t, query.error) })}
    />
  );
}
