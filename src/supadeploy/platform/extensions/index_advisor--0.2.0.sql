-- supadeploy's index_advisor: plans the query (a prepared statement, so $1… work), gives every column of
-- the tables the plan reads a hypothetical B-tree index (hypopg), plans again, and reports the indexes
-- the new plan uses with the costs before and after. Errors come back in `errors`, as index_advisor does.
-- Plans are generic (parameters stay parameters) and the statement is prepared anew for each plan, so
-- the second one sees the hypothetical indexes.
create function @extschema@.index_advisor(query text)
returns table (startup_cost_before jsonb, startup_cost_after jsonb, total_cost_before jsonb,
               total_cost_after jsonb, index_statements text[], errors text[])
language plpgsql volatile set plan_cache_mode = force_generic_plan as $fn$
declare
  statement_name text := 'supadeploy_index_advisor';
  hypopg_schema text := (select extnamespace::regnamespace::text from pg_catalog.pg_extension
                         where extname = 'hypopg');
  arguments text := '';
  explain_sql text;
  before jsonb;
  after jsonb;
  candidate record;
  used text[] := '{}';
  problem text;
begin
  if btrim(btrim(query), ';') ~ ';' then
    return query select null::jsonb, null::jsonb, null::jsonb, null::jsonb, '{}'::text[],
      array['Query must not contain multiple statements']::text[];
    return;
  end if;
  begin
    execute format('prepare %I as %s', statement_name, btrim(btrim(query), ';'));
    select coalesce('(' || string_agg('null', ', ') || ')', '') into arguments
    from pg_catalog.pg_prepared_statements p, unnest(p.parameter_types) where p.name = statement_name;
    explain_sql := format('explain (format json) execute %I%s', statement_name, arguments);
    execute explain_sql into before;
    execute format('deallocate %I', statement_name);
    for candidate in
      select distinct format('create index on %I.%I (%I)', n.nspname, c.relname, a.attname) as ddl
      from jsonb_path_query(before, '$.**."Relation Name"') as r(name)
      join pg_catalog.pg_class c on c.relname = r.name #>> '{}' and c.relkind in ('r', 'p', 'm')
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
      join pg_catalog.pg_opclass o on o.opcintype = a.atttypid and o.opcdefault
        and o.opcmethod = (select oid from pg_catalog.pg_am where amname = 'btree')
      where n.nspname not in ('pg_catalog', 'information_schema')
        and not exists (select from pg_catalog.pg_index i where i.indrelid = c.oid and i.indkey[0] = a.attnum)
    loop
      execute format('select %I.hypopg_create_index($1)', hypopg_schema) using candidate.ddl;
    end loop;
    execute format('prepare %I as %s', statement_name, btrim(btrim(query), ';'));
    execute explain_sql into after;
    execute format('select coalesce(array_agg(distinct %1$I.hypopg_get_indexdef(h.indexrelid)), ''{}'')
                    from %1$I.hypopg() h where $1::text like ''%%'' || h.indexname || ''%%''', hypopg_schema)
      into used using after;
    execute format('select %I.hypopg_reset()', hypopg_schema);
    execute format('deallocate %I', statement_name);
  exception when others then
    get stacked diagnostics problem = message_text;
    if exists (select from pg_catalog.pg_prepared_statements where name = statement_name) then
      execute format('deallocate %I', statement_name);
    end if;
    return query select null::jsonb, null::jsonb, null::jsonb, null::jsonb, '{}'::text[], array[problem]::text[];
    return;
  end;
  return query select before #> '{0,Plan,Startup Cost}', after #> '{0,Plan,Startup Cost}',
                      before #> '{0,Plan,Total Cost}', after #> '{0,Plan,Total Cost}',
                      (select coalesce(array_agg(statement || ';' order by statement), '{}')
                       from unnest(used) statement), '{}'::text[];
end
$fn$;
