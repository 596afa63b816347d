import { Button, Select, Space } from 'antd';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';

/** Cursor pagination kept in the URL (?starting_after=…), as the services page their lists. */
export function Pager({ hasMore, lastId }: { hasMore: boolean; lastId: string | undefined }) {
  const { t } = useTranslation();
  const [search, setSearch] = useSearchParams();
  const onLaterPage = search.has('starting_after');
  const go = (startingAfter: string | undefined) => {
    const next = new URLSearchParams(search);
    if (startingAfter === undefined) next.delete('starting_after');
    else next.set('starting_after', startingAfter);
    setSearch(next);
  };
  return (
    <Space style={{ marginTop: 16 }}>
      <Button disabled={!onLaterPage} onClick={() => go(undefined)}>
        {t('common.first')}
      </Button>
      <Button disabled={!hasMore || lastId === undefined} onClick={() => go(lastId)}>
        {t('common.next')}
      </Button>
    </Space>
  );
}

/** The status filter in the URL (?status=…); choosing one starts at the first page. */
export function useStatusFilter<S extends string>(statuses: readonly S[]) {
  const [search, setSearch] = useSearchParams();
  const raw = search.get('status');
  const status = statuses.find((candidate) => candidate === raw);
  const startingAfter = search.get('starting_after') ?? undefined;
  const setStatus = (value: S | undefined) => {
    const next = new URLSearchParams();
    if (value !== undefined) next.set('status', value);
    setSearch(next);
  };
  return { status, startingAfter, setStatus };
}

/** The status filter's control: "all" or one status, each in words (`<wordsKey>.<status>`). */
export function StatusFilter<S extends string>({
  id,
  statuses,
  wordsKey,
  value,
  onChange,
}: {
  id: string;
  statuses: readonly S[];
  wordsKey: string;
  value: S | undefined;
  onChange: (value: S | undefined) => void;
}) {
  const { t } = useTranslation();
  return (
    <Space style={{ marginBottom: 16 }}>
      <label htmlFor={id}>{t('common.status')}</label>
      <Select<S | 'all'>
        id={id}
        style={{ width: 160 }}
        value={value ?? 'all'}
        onChange={(chosen) => onChange(chosen === 'all' ? undefined : chosen)}
        options={[
          { value: 'all', label: t('common.all') },
          ...statuses.map((status) => ({ value: status, label: t(`${wordsKey}.${status}`) })),
        ]}
      />
    </Space>
  );
}
