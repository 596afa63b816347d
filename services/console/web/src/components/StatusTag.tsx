import { Tag } from 'antd';
import type { CSSProperties } from 'react';

/**
 * A status as a tag in one of a few tones. antd's preset green and orange tags draw text at 3.4–3.9:1
 * on their background (axe: serious), so each tone here takes the palette's darkest text (≥ 7:1).
 */
export type Tone = 'good' | 'waiting' | 'bad' | 'neutral' | 'info';

const TONE_STYLES: Record<Tone, CSSProperties | undefined> = {
  good: { color: '#135200', background: '#f6ffed', borderColor: '#b7eb8f' },
  waiting: { color: '#873800', background: '#fff7e6', borderColor: '#ffd591' },
  bad: { color: '#a8071a', background: '#fff1f0', borderColor: '#ffa39e' },
  info: { color: '#003eb3', background: '#e6f4ff', borderColor: '#91caff' },
  neutral: undefined,
};

export function StatusTag({ tone, children }: { tone: Tone; children: string }) {
  return <Tag style={TONE_STYLES[tone]}>{children}</Tag>;
}
