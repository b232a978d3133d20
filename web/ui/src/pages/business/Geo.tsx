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
// The store's countries are ISO 3166-1 alpha-2 codes (the API adds countryName);
// world-atlas keys its shapes by the ISO numeric code. ISO_NUMERIC pairs them
// (alpha-2 then numeric, five characters each, from ISO 3166-1). A country the
// map does not draw still counts in the table view.
const ISO_NUMERIC =
  'AD020AE784AF004AG028AI660AL008AM051AO024AQ010AR032AS016AT040AU036AW533AX248AZ031BA070BB052BD050BE056BF854BG100BH048BI108BJ204BL652BM060BN096BO068BQ535BR076BS044BT064BV074BW072BY112BZ084CA124CC166CD180CF140CG178CH756CI384CK184CL152CM120CN156CO170CR188CU192CV132CW531CX162CY196CZ203DE276DJ262DK208DM212DO214DZ012EC218EE233EG818EH732ER232ES724ET231FI246FJ242FK238FM583FO234FR250GA266GB826GD308GE268GF254GG831GH288GI292GL304GM270GN324GP312GQ226GR300GS239GT320GU316GW624GY328HK344HM334HN340HR191HT332HU348ID360IE372IL376IM833IN356IO086IQ368IR364IS352IT380JE832JM388JO400JP392KE404KG417KH116KI296KM174KN659KP408KR410KW414KY136KZ398LA418LB422LC662LI438LK144LR430LS426LT440LU442LV428LY434MA504MC492MD498ME499MF663MG450MH584MK807ML466MM104MN496MO446MP580MQ474MR478MS500MT470MU480MV462MW454MX484MY458MZ508NA516NC540NE562NF574NG566NI558NL528NO578NP524NR520NU570NZ554OM512PA591PE604PF258PG598PH608PK586PL616PM666PN612PR630PS275PT620PW585PY600QA634RE638RO642RS688RU643RW646SA682SB090SC690SD729SE752SG702SH654SI705SJ744SK703SL694SM674SN686SO706SR740SS728ST678SV222SX534SY760SZ748TC796TD148TF260TG768TH764TJ762TK772TL626TM795TN788TO776TR792TT780TV798TW158TZ834UA804UG800UM581US840UY858UZ860VA336VC670VE862VG092VI850VN704VU548WF876WS882YE887YT175ZA710ZM894ZW716';
const MAP_NAME_BY_ID = new Map(topo.objects.countries.geometries.map((g) => [String(g.id), (g.properties as { name: string }).name]));
const MAP_NAME_BY_CODE = new Map<string, string>();
for (let i = 0; i + 5 <= ISO_NUMERIC.length; i += 5) {
  const name = MAP_NAME_BY_ID.get(ISO_NUMERIC.slice(i + 2, i + 5));
  if (name) MAP_NAME_BY_CODE.set(ISO_NUMERIC.slice(i, i + 2), name);
}
MAP_NAME_BY_CODE.set('XK', 'Kosovo'); // no ISO code; registries use XK
MAP_NAME_BY_CODE.set('UK', 'United Kingdom');


export default function GeoPage() {
  const top = useTop({ dimension: 'country', limit: 300 });
  const [asTable, setAsTable] = useState(false);
  const [country, setCountry] = useState<{ code: string; name: string } | null>(null);
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
            <DataTable testid="table-geo" name="countries" columns={[NAME_COLUMN, ...labelColumns('country'), FIG.requests, FIG.successful, FIG.faults, FIG.throttled]} rows={t.items} rowKey={(r) => r.key} initialSort={[{ id: 'requests', desc: true }]} caption="Requests per country" dimension="country" onRowClick={(r) => setCountry(pick(r))} />
          ) : (
            <WorldMap items={t.items} onPick={setCountry} />
          )
        }
      </Panel>
      {country && <Cities code={country.code} name={country.name} />}
    </Page>
  );
}

const NAME_COLUMN = { id: 'countryName', header: 'Country', value: (r: TopItem) => r.labels.countryName ?? r.labels.country ?? '' };
const CODE = (r: TopItem) => r.labels.country ?? r.key;
const pick = (r: TopItem) => (isUnknown(CODE(r)) ? null : { code: CODE(r), name: r.labels.countryName ?? CODE(r) });

// Cities is the drill-down of one country: its cities by requests.
function Cities({ code, name }: { code: string; name: string }) {
  const cities = useTop({ dimension: 'city', limit: 100 }, { country: code });
  return (
    <Panel testid="table-cities" title={`Cities in ${name}`} subtitle="N/A: no city database, or not located" height={300} query={cities} wide isEmpty={(t) => t.items.length === 0} empty={<p>No requests from {name} in this range.</p>}>
      {(t) => (
        <DataTable testid="table-geo-cities" name={`cities-${code}`} columns={[{ id: 'city', header: 'City', value: (r: TopItem) => r.labels.city ?? '' }, FIG.requests, FIG.successful, FIG.faults, FIG.throttled]} rows={t.items} rowKey={(r) => r.key} initialSort={[{ id: 'requests', desc: true }]} caption={`Requests per city in ${name}`} />
      )}
    </Panel>
  );
}

function WorldMap({ items, onPick }: { items: TopItem[]; onPick: (c: { code: string; name: string } | null) => void }) {
  const byMapName = useMemo(() => new Map(items.map((i) => [matchName(i), i])), [items]);
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
          data: known.map((i) => ({ name: matchName(i), value: i.requests })),
        },
      ],
    };
  }, [items]);
  return (
    <EChart
      option={option}
      height={460}
      label="World map of requests per country; click a country for its cities. Use the Table button for the figures."
      onClick={(p) => {
        const i = p.name ? byMapName.get(p.name) : undefined;
        onPick(i ? pick(i) : null);
      }}
    />
  );
}

function matchName(i: TopItem): string {
  const code = CODE(i);
  return MAP_NAME_BY_CODE.get(code) ?? i.labels.countryName ?? code;
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
