import { useMemo, useState } from 'react';
import { feature } from 'topojson-client';
import type { Topology, GeometryCollection } from 'topojson-specification';
import type { FeatureCollection, Geometry, Position } from 'geojson';
import world from 'world-atlas/countries-110m.json';
import type { TopItem } from '../../api/traffic';
import { MapChart } from 'echarts/charts';
import { VisualMapComponent } from 'echarts/components';
import { echarts } from '../../charts/echarts';
import { EChart } from '../../charts/EChart';
import { esc } from '../../charts/build';
import { DataTable } from '../../components/DataTable';
import { Panel } from '../../components/Panel';
import { Page } from '../../page';
import { useTop } from '../../traffic';
import { COUNT, FIG, labelColumns } from '../common';
import { EnrichmentPending, allUnknown, isUnknown } from './enrichment';

echarts.use([MapChart, VisualMapComponent]);

// World borders from world-atlas (Natural Earth 1:110m), registered once.
const topo = world as unknown as Topology<{ countries: GeometryCollection<{ name: string }> }>;
echarts.registerMap('world', unwrap(feature(topo, topo.objects.countries)) as never);
// The store's country values are matched to the map's names without regard to
// case; a country the map does not name still counts in the table view.
const COUNTRY_NAMES = new Map(
  topo.objects.countries.geometries.map((g) => {
    const name = (g.properties as { name: string }).name;
    return [name.toLowerCase(), name];
  }),
);

export default function GeoPage() {
  const top = useTop({ dimension: 'country', limit: 300 });
  const [asTable, setAsTable] = useState(false);
  return (
    <Page persona="business" page="geo" title="Geo map">
      <Panel
        testid="chart-geo"
        title="Requests per country"
        subtitle="Hover a country for its exact count"
        height={460}
        wide
        query={top}
        isEmpty={allUnknown('country')}
        empty={<EnrichmentPending what="countries" />}
        actions={
          <button type="button" className="btn btn-small" aria-pressed={asTable} onClick={() => setAsTable(!asTable)}>
            {asTable ? 'Map' : 'Table'}
          </button>
        }
      >
        {(t) =>
          asTable ? (
            <DataTable testid="table-geo" name="countries" columns={[...labelColumns('country'), FIG.requests, FIG.successful, FIG.faults, FIG.throttled]} rows={t.items} rowKey={(r) => r.key} initialSort={[{ id: 'requests', desc: true }]} caption="Requests per country" dimension="country" />
          ) : (
            <WorldMap items={t.items} />
          )
        }
      </Panel>
    </Page>
  );
}

function WorldMap({ items }: { items: TopItem[] }) {
  const option = useMemo(() => {
    const known = items.filter((i) => !isUnknown(i.labels.country));
    const max = Math.max(1, ...known.map((i) => i.requests));
    return {
      tooltip: {
        trigger: 'item',
        formatter: (p: { name: string; value: number }) => `${esc(p.name)}: <b>${isNaN(p.value) ? 'no requests' : COUNT.exact(p.value)}</b>`,
      },
      visualMap: { min: 0, max, left: 8, bottom: 8, text: ['more', 'fewer'], calculable: true, inRange: { color: ['#c6dbef', '#08519c'] } },
      series: [
        {
          type: 'map',
          map: 'world',
          roam: true,
          nameProperty: 'name',
          emphasis: { label: { show: false } },
          data: known.map((i) => ({ name: matchName(i.labels.country), value: i.requests })),
        },
      ],
    };
  }, [items]);
  return <EChart option={option} height={460} label="World map of requests per country. Use the Table button for the figures." />;
}

function matchName(country: string): string {
  return COUNTRY_NAMES.get(country.toLowerCase()) ?? country;
}

// ECharts draws a ring that crosses the antimeridian (Russia's east, Fiji) as a
// line across the whole map: such rings are moved east of 180° instead.
// Antarctica, which circles the pole, is left out: it sends no API traffic.
function unwrap(fc: FeatureCollection<Geometry, { name: string }>): FeatureCollection<Geometry, { name: string }> {
  const fixRing = (ring: Position[]): Position[] => {
    const lons = ring.map((p) => p[0]);
    if (Math.max(...lons) - Math.min(...lons) <= 180) return ring;
    return ring.map(([lon, lat]) => [lon < 0 ? lon + 360 : lon, lat]);
  };
  const features = fc.features
    .filter((f) => f.properties.name !== 'Antarctica')
    .map((f) => {
      const g = f.geometry;
      if (g.type === 'Polygon') return { ...f, geometry: { ...g, coordinates: g.coordinates.map(fixRing) } };
      if (g.type === 'MultiPolygon') return { ...f, geometry: { ...g, coordinates: g.coordinates.map((poly) => poly.map(fixRing)) } };
      return f;
    });
  return { ...fc, features };
}
