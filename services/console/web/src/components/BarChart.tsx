import { BarChart as EChartsBar } from 'echarts/charts';
import { AriaComponent, GridComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'react';

echarts.use([EChartsBar, GridComponent, TooltipComponent, AriaComponent, CanvasRenderer]);

/**
 * A small bar chart, ECharts in a div (echarts-for-react's build needs tslib it does not declare, so
 * this is the few lines it would be). ECharts' aria option gives the chart a description screen
 * readers read.
 */
export function BarChart({
  label,
  categories,
  values,
}: {
  label: string;
  categories: string[];
  values: number[];
}) {
  const container = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);

  useEffect(() => {
    if (container.current === null) return;
    const instance = echarts.init(container.current);
    chart.current = instance;
    const resize = new ResizeObserver(() => instance.resize());
    resize.observe(container.current);
    return () => {
      resize.disconnect();
      instance.dispose();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    chart.current?.setOption(
      {
        aria: {
          enabled: true,
          label: {
            description: `${label}: ${categories.map((name, index) => `${name} ${values[index]}`).join(', ')}`,
          },
        },
        grid: { left: 40, right: 16, top: 16, bottom: 32 },
        tooltip: { trigger: 'axis' },
        xAxis: { type: 'category', data: categories },
        yAxis: { type: 'value', minInterval: 1 },
        series: [{ type: 'bar', data: values, itemStyle: { color: '#0958d9' }, barMaxWidth: 48 }],
      },
      { notMerge: true },
    );
  }, [label, categories, values]);

  return <div ref={container} style={{ height: 240 }} />;
}
