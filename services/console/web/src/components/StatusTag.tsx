import { Tag } from 'antd';

/**
 * A status as a tag in one of a few tones. The tones are antd's preset colours whose text is dark
 * enough on their light background for WCAG AA.
 */
export type Tone = 'good' | 'waiting' | 'bad' | 'neutral' | 'info';

const TONE_COLOURS: Record<Tone, string | undefined> = {
  good: 'green',
  waiting: 'orange',
  bad: 'red',
  info: 'blue',
  neutral: undefined,
};

export function StatusTag({ tone, children }: { tone: Tone; children: string }) {
  return <Tag color={TONE_COLOURS[tone]}>{children}</Tag>;
}
