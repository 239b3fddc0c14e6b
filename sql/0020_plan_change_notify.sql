-- 0020: every change to the plan says so on the channel relplan_plan, so `relplan serve` can push
-- it to open calendar pages (Server-Sent Events). Statement-level triggers: one notification per
-- statement whatever the rows (an import of 100,000 rows sends a handful), delivered at commit
-- and only then; identical payloads in one transaction are sent once. The payload is the table's
-- name only: who may see what is decided when the page fetches again, as the person.
CREATE FUNCTION relplan_notify_plan_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    PERFORM pg_notify('relplan_plan', TG_TABLE_NAME);
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION relplan_notify_plan_change() FROM PUBLIC;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['release', 'release_dependency', 'release_package', 'release_unit', 'environment_booking',
                             'service_window', 'change_freeze', 'environment', 'schedule_proposal', 'management_group',
                             'deviation', 'release_criterion']
    LOOP
        EXECUTE format('CREATE TRIGGER relplan_notify_plan_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON public.%I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION relplan_notify_plan_change()', t);
    END LOOP;
END
$$;
