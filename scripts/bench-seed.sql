-- What files from scripts/gen-import-csv refer to: ten groups, two years of weekly service
-- windows and the environments they book. Run as the database owner (or an admin) on a migrated
-- database; running it again adds nothing. The importing login is the bench's to create, e.g.:
--   SELECT relplan_create_user('bench_importer', NULL);
--   INSERT INTO membership (group_id, role_name, role) SELECT id, 'bench_importer', 'release-manager'
--   FROM management_group WHERE code LIKE 'G__';
INSERT INTO management_group (code, name)
SELECT format('G%s', lpad(i::text, 2, '0')), format('Bench group %s', i) FROM generate_series(1, 10) AS i
ON CONFLICT (code) DO NOTHING;

INSERT INTO service_window (code, starts_at, ends_at, capacity)
SELECT 'BW-' || to_char(d, 'YYYY-MM-DD'), (d + time '22:00') AT TIME ZONE 'Europe/Stockholm',
       (d + interval '1 day' + time '02:00') AT TIME ZONE 'Europe/Stockholm', 2000
FROM generate_series(date '2030-01-05', date '2030-01-05' + 7 * 103, interval '7 days') AS s (day), LATERAL (SELECT s.day::date AS d) AS x
ON CONFLICT (code) DO NOTHING;

INSERT INTO environment (code, name, kind, capacity)
SELECT format('BENCH-TEST-%s', lpad(i::text, 2, '0')), format('Bench test %s', i), 'test', 1 FROM generate_series(1, 20) AS i
UNION ALL SELECT 'BENCH-PREPROD', 'Bench pre-production', 'preprod', 50
UNION ALL SELECT 'BENCH-PROD', 'Bench production', 'prod', 1000
ON CONFLICT (code) DO NOTHING;
