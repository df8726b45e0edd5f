-- supadeploy stand-in for pg_jsonschema 0.3.1: the four functions hosted projects have (immutable, strict,
-- parallel safe, as the real ones are), over a JSON Schema validator written here in PL/pgSQL. Like the
-- real extension's validator (draft 7 by default, no 2019-09/2020-12 support built in), it reads every
-- schema as draft 7 (draft 4's boolean exclusiveMinimum/exclusiveMaximum too) and ignores keywords draft 7
-- does not know. What it cannot evaluate the way the real one would raises SDL01 (reported as "not
-- available in the local replay"): a $ref outside the schema, a pattern PostgreSQL's regular expressions
-- cannot read. Messages follow the real validator's wording, not always to the letter.

create function @extschema@._supadeploy_jsonschema_cannot(what text) returns boolean
language plpgsql immutable parallel safe as $fn$
begin
  raise exception using errcode = 'SDL01',
    message = format('pg_jsonschema''s stand-in in supadeploy''s local replay cannot evaluate %s', what),
    hint = 'run the dry run against a staging project to check statements that validate with this schema';
end
$fn$;

-- What makes a schema invalid (null when it is a schema): the shapes draft 7's meta-schema requires.
create function @extschema@._supadeploy_jsonschema_problem(schema jsonb) returns text
language plpgsql immutable parallel safe as $fn$
declare
  key text;
  value jsonb;
  item jsonb;
  found text;
  type_names constant text[] := array['null', 'boolean', 'object', 'array', 'number', 'string', 'integer'];
begin
  if jsonb_typeof(schema) = 'boolean' then
    return null;
  end if;
  if jsonb_typeof(schema) is distinct from 'object' then
    return format('%s is not of types "boolean", "object"', schema);
  end if;
  for key, value in select e.key, e.value from jsonb_each(schema) as e loop
    found := null;
    if key = 'type' then
      if not (jsonb_typeof(value) = 'string' and value #>> '{}' = any (type_names))
         and not (jsonb_typeof(value) = 'array' and jsonb_array_length(value) > 0 and not exists (
           select from jsonb_array_elements(value) as t(v)
           where jsonb_typeof(t.v) <> 'string' or not (t.v #>> '{}' = any (type_names)))) then
        found := format('%s is not valid under any of the given schemas', value);
      end if;
    elsif key in ('properties', 'patternProperties', 'definitions', 'dependencies') then
      if jsonb_typeof(value) <> 'object' then
        found := format('%s is not of type "object"', value);
      else
        for item in select e.value from jsonb_each(value) as e loop
          if key = 'dependencies' and jsonb_typeof(item) = 'array' then
            continue;
          end if;
          found := coalesce(found, @extschema@._supadeploy_jsonschema_problem(item));
        end loop;
      end if;
    elsif key in ('additionalProperties', 'additionalItems', 'contains', 'propertyNames', 'not', 'if', 'then',
                  'else') then
      found := @extschema@._supadeploy_jsonschema_problem(value);
    elsif key = 'items' then
      if jsonb_typeof(value) = 'array' then
        for item in select e.v from jsonb_array_elements(value) as e(v) loop
          found := coalesce(found, @extschema@._supadeploy_jsonschema_problem(item));
        end loop;
      else
        found := @extschema@._supadeploy_jsonschema_problem(value);
      end if;
    elsif key in ('allOf', 'anyOf', 'oneOf') then
      if jsonb_typeof(value) <> 'array' or jsonb_array_length(value) = 0 then
        found := format('%s is not of type "array"', value);
      else
        for item in select e.v from jsonb_array_elements(value) as e(v) loop
          found := coalesce(found, @extschema@._supadeploy_jsonschema_problem(item));
        end loop;
      end if;
    elsif key = 'required' then
      if jsonb_typeof(value) <> 'array'
         or exists (select from jsonb_array_elements(value) as e(v) where jsonb_typeof(e.v) <> 'string') then
        found := format('%s is not of type "array"', value);
      end if;
    elsif key = 'enum' then
      if jsonb_typeof(value) <> 'array' then
        found := format('%s is not of type "array"', value);
      end if;
    elsif key in ('minimum', 'maximum') then
      if jsonb_typeof(value) <> 'number' then
        found := format('%s is not of type "number"', value);
      end if;
    elsif key in ('exclusiveMinimum', 'exclusiveMaximum') then
      if jsonb_typeof(value) not in ('number', 'boolean') then
        found := format('%s is not of type "number"', value);
      end if;
    elsif key = 'multipleOf' then
      if jsonb_typeof(value) <> 'number' or value::numeric <= 0 then
        found := format('%s is not of type "number" greater than 0', value);
      end if;
    elsif key in ('minLength', 'maxLength', 'minItems', 'maxItems', 'minProperties', 'maxProperties') then
      if jsonb_typeof(value) <> 'number' or value::numeric < 0 or value::numeric <> trunc(value::numeric) then
        found := format('%s is not of type "integer"', value);
      end if;
    elsif key in ('pattern', '$ref', 'format') then
      if jsonb_typeof(value) <> 'string' then
        found := format('%s is not of type "string"', value);
      end if;
    elsif key = 'uniqueItems' then
      if jsonb_typeof(value) <> 'boolean' then
        found := format('%s is not of type "boolean"', value);
      end if;
    end if;
    if found is not null then
      return found;
    end if;
  end loop;
  return null;
end
$fn$;

-- A string matches `pattern` (ECMA 262 in JSON Schema; PostgreSQL's ARE reads the common subset).
create function @extschema@._supadeploy_jsonschema_matches(value text, pattern text) returns boolean
language plpgsql immutable parallel safe as $fn$
begin
  return value ~ pattern;
exception when invalid_regular_expression then
  return @extschema@._supadeploy_jsonschema_cannot(format('the pattern %s (PostgreSQL''s regular expressions '
                                                          'cannot read it)', pattern));
end
$fn$;

-- The formats draft 7 defines that the real validator checks; any other name is an annotation.
create function @extschema@._supadeploy_jsonschema_format(name text, value text) returns boolean
language plpgsql immutable parallel safe as $fn$
begin
  case name
    when 'date' then
      if value !~ '^\d{4}-\d{2}-\d{2}$' then
        return false;
      end if;
      perform value::date;
    when 'date-time' then
      if value !~* '^\d{4}-\d{2}-\d{2}t\d{2}:\d{2}:\d{2}(\.\d+)?(z|[+-]\d{2}:\d{2})$' then
        return false;
      end if;
      perform value::timestamptz;
    when 'time' then
      return value ~* '^([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?(z|[+-]\d{2}:\d{2})$';
    when 'email' then
      return position('@' in value) > 0;
    when 'uuid' then
      return value ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
    when 'ipv4' then
      return value ~ '^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$';
    when 'ipv6' then
      return position(':' in value) > 0 and position('/' in value) = 0 and family(value::inet) = 6;
    when 'uri' then
      return value ~* '^[a-z][a-z0-9+.-]*:[^[:space:]]*$';
    when 'hostname' then
      return char_length(value) <= 253
        and value ~* '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$';
    when 'regex' then
      perform '' ~ value;
    else
      return true;
  end case;
  return true;
exception when others then
  return false;
end
$fn$;

-- Every error of `instance` against `schema` (a schema already checked); `root` resolves "#/..." references.
create function @extschema@._supadeploy_jsonschema_errors(schema jsonb, instance jsonb, root jsonb, depth integer)
returns text[] language plpgsql immutable parallel safe as $fn$
declare
  errors text[] := '{}';
  kind text := jsonb_typeof(instance);
  types text[];
  key text;
  sub jsonb;
  item jsonb;
  target jsonb;
  reference text;
  n numeric;
  bound numeric;
  s text;
  len integer;
  fixed integer;
  valid integer;
  unexpected text[];
begin
  if depth > 200 then
    perform @extschema@._supadeploy_jsonschema_cannot('a schema whose references nest deeper than 200 levels');
  end if;
  if jsonb_typeof(schema) = 'boolean' then
    return case when schema = 'false'::jsonb then array[format('False schema does not allow %s', instance)]
                else errors end;
  end if;

  if schema ? '$ref' then  -- draft 7: a reference's sibling keywords are ignored
    reference := schema ->> '$ref';
    if reference = '#' then
      target := root;
    elsif left(reference, 2) = '#/' then
      target := root #> array(select replace(replace(p.part, '~1', '/'), '~0', '~')
                              from unnest(string_to_array(substr(reference, 3), '/')) with ordinality as p(part, o)
                              order by p.o);
    else
      perform @extschema@._supadeploy_jsonschema_cannot(format('the reference %s (only references inside '
                                                               'the schema are replayed)', reference));
    end if;
    if target is null then
      raise exception using errcode = '22023', message = format('Invalid reference: %s', reference);
    end if;
    return @extschema@._supadeploy_jsonschema_errors(target, instance, root, depth + 1);
  end if;

  if schema ? 'type' then
    types := case jsonb_typeof(schema -> 'type') when 'array'
               then array(select jsonb_array_elements_text(schema -> 'type')) else array[schema ->> 'type'] end;
    if not (kind = any (types)
            or (kind = 'number' and 'integer' = any (types) and instance::numeric = trunc(instance::numeric))) then
      errors := errors || case when cardinality(types) = 1 then format('%s is not of type "%s"', instance, types[1])
                               else format('%s is not of types %s', instance,
                                           (select string_agg(format('"%s"', t), ', ') from unnest(types) as t))
                          end;
    end if;
  end if;
  if schema ? 'enum'
     and not exists (select from jsonb_array_elements(schema -> 'enum') as e(v) where e.v = instance) then
    errors := errors || format('%s is not one of %s', instance, schema -> 'enum');
  end if;
  if schema ? 'const' and schema -> 'const' <> instance then
    errors := errors || format('%s was expected', schema -> 'const');
  end if;

  if kind = 'number' then
    n := instance::numeric;
    if jsonb_typeof(schema -> 'minimum') = 'number' then
      bound := (schema -> 'minimum')::numeric;
      if schema -> 'exclusiveMinimum' = 'true'::jsonb and n <= bound then
        errors := errors || format('%s is less than or equal to the minimum of %s', instance, bound);
      elsif n < bound then
        errors := errors || format('%s is less than the minimum of %s', instance, bound);
      end if;
    end if;
    if jsonb_typeof(schema -> 'maximum') = 'number' then
      bound := (schema -> 'maximum')::numeric;
      if schema -> 'exclusiveMaximum' = 'true'::jsonb and n >= bound then
        errors := errors || format('%s is greater than or equal to the maximum of %s', instance, bound);
      elsif n > bound then
        errors := errors || format('%s is greater than the maximum of %s', instance, bound);
      end if;
    end if;
    if jsonb_typeof(schema -> 'exclusiveMinimum') = 'number' and n <= (schema -> 'exclusiveMinimum')::numeric then
      errors := errors || format('%s is less than or equal to the minimum of %s', instance,
                                 schema -> 'exclusiveMinimum');
    end if;
    if jsonb_typeof(schema -> 'exclusiveMaximum') = 'number' and n >= (schema -> 'exclusiveMaximum')::numeric then
      errors := errors || format('%s is greater than or equal to the maximum of %s', instance,
                                 schema -> 'exclusiveMaximum');
    end if;
    if schema ? 'multipleOf' and mod(n, (schema -> 'multipleOf')::numeric) <> 0 then
      errors := errors || format('%s is not a multiple of %s', instance, schema -> 'multipleOf');
    end if;
  end if;

  if kind = 'string' then
    s := instance #>> '{}';
    if schema ? 'minLength' and char_length(s) < (schema -> 'minLength')::numeric then
      errors := errors || format('%s is shorter than %s character%s', instance, schema -> 'minLength',
                                 case when schema -> 'minLength' = '1'::jsonb then '' else 's' end);
    end if;
    if schema ? 'maxLength' and char_length(s) > (schema -> 'maxLength')::numeric then
      errors := errors || format('%s is longer than %s character%s', instance, schema -> 'maxLength',
                                 case when schema -> 'maxLength' = '1'::jsonb then '' else 's' end);
    end if;
    if schema ? 'pattern' and not @extschema@._supadeploy_jsonschema_matches(s, schema ->> 'pattern') then
      errors := errors || format('%s does not match "%s"', instance, schema ->> 'pattern');
    end if;
    if schema ? 'format' and not @extschema@._supadeploy_jsonschema_format(schema ->> 'format', s) then
      errors := errors || format('%s is not a "%s"', instance, schema ->> 'format');
    end if;
  end if;

  if kind = 'array' then
    len := jsonb_array_length(instance);
    if schema ? 'minItems' and len < (schema -> 'minItems')::numeric then
      errors := errors || format('%s has less than %s item%s', instance, schema -> 'minItems',
                                 case when schema -> 'minItems' = '1'::jsonb then '' else 's' end);
    end if;
    if schema ? 'maxItems' and len > (schema -> 'maxItems')::numeric then
      errors := errors || format('%s has more than %s item%s', instance, schema -> 'maxItems',
                                 case when schema -> 'maxItems' = '1'::jsonb then '' else 's' end);
    end if;
    if schema -> 'uniqueItems' = 'true'::jsonb
       and (select count(distinct e.v) from jsonb_array_elements(instance) as e(v)) < len then
      errors := errors || format('%s has non-unique elements', instance);
    end if;
    if jsonb_typeof(schema -> 'items') = 'array' then  -- one schema per position, then additionalItems
      fixed := jsonb_array_length(schema -> 'items');
      for i in 0 .. least(len, fixed) - 1 loop
        errors := errors || @extschema@._supadeploy_jsonschema_errors(schema -> 'items' -> i, instance -> i, root,
                                                                      depth + 1);
      end loop;
      if schema ? 'additionalItems' then
        for i in fixed .. len - 1 loop
          errors := errors || @extschema@._supadeploy_jsonschema_errors(schema -> 'additionalItems', instance -> i,
                                                                        root, depth + 1);
        end loop;
      end if;
    elsif schema ? 'items' then
      for item in select e.v from jsonb_array_elements(instance) as e(v) loop
        errors := errors || @extschema@._supadeploy_jsonschema_errors(schema -> 'items', item, root, depth + 1);
      end loop;
    end if;
    if schema ? 'contains' and not exists (
        select from jsonb_array_elements(instance) as e(v)
        where cardinality(@extschema@._supadeploy_jsonschema_errors(schema -> 'contains', e.v, root, depth + 1)) = 0)
    then
      errors := errors || format('None of %s are valid under the given schema', instance);
    end if;
  end if;

  if kind = 'object' then
    if schema ? 'required' then
      for key in select jsonb_array_elements_text(schema -> 'required') loop
        if not instance ? key then
          errors := errors || format('"%s" is a required property', key);
        end if;
      end loop;
    end if;
    if schema ? 'minProperties'
       and (select count(*) from jsonb_object_keys(instance)) < (schema -> 'minProperties')::numeric then
      errors := errors || format('%s has less than %s propert%s', instance, schema -> 'minProperties',
                                 case when schema -> 'minProperties' = '1'::jsonb then 'y' else 'ies' end);
    end if;
    if schema ? 'maxProperties'
       and (select count(*) from jsonb_object_keys(instance)) > (schema -> 'maxProperties')::numeric then
      errors := errors || format('%s has more than %s propert%s', instance, schema -> 'maxProperties',
                                 case when schema -> 'maxProperties' = '1'::jsonb then 'y' else 'ies' end);
    end if;
    if schema ? 'properties' then
      for key, sub in select e.key, e.value from jsonb_each(schema -> 'properties') as e loop
        if instance ? key then
          errors := errors || @extschema@._supadeploy_jsonschema_errors(sub, instance -> key, root, depth + 1);
        end if;
      end loop;
    end if;
    if schema ? 'patternProperties' then
      for reference, sub in select e.key, e.value from jsonb_each(schema -> 'patternProperties') as e loop
        for key in select k from jsonb_object_keys(instance) as k loop
          if @extschema@._supadeploy_jsonschema_matches(key, reference) then
            errors := errors || @extschema@._supadeploy_jsonschema_errors(sub, instance -> key, root, depth + 1);
          end if;
        end loop;
      end loop;
    end if;
    if schema ? 'additionalProperties' then
      unexpected := array(
        select k from jsonb_object_keys(instance) as k
        where not coalesce(schema -> 'properties', '{}'::jsonb) ? k
          and not exists (select from jsonb_object_keys(coalesce(schema -> 'patternProperties', '{}'::jsonb)) as p
                          where @extschema@._supadeploy_jsonschema_matches(k, p))
        order by k);
      if schema -> 'additionalProperties' = 'false'::jsonb then
        if cardinality(unexpected) > 0 then
          errors := errors || format('Additional properties are not allowed (%s %s unexpected)',
                                     (select string_agg(format('''%s''', u), ', ') from unnest(unexpected) as u),
                                     case when cardinality(unexpected) = 1 then 'was' else 'were' end);
        end if;
      else
        foreach key in array unexpected loop
          errors := errors || @extschema@._supadeploy_jsonschema_errors(schema -> 'additionalProperties',
                                                                        instance -> key, root, depth + 1);
        end loop;
      end if;
    end if;
    if schema ? 'propertyNames' then
      for key in select k from jsonb_object_keys(instance) as k loop
        errors := errors || @extschema@._supadeploy_jsonschema_errors(schema -> 'propertyNames', to_jsonb(key),
                                                                      root, depth + 1);
      end loop;
    end if;
    if schema ? 'dependencies' then
      for key, sub in select e.key, e.value from jsonb_each(schema -> 'dependencies') as e loop
        if instance ? key then
          if jsonb_typeof(sub) = 'array' then
            for reference in select jsonb_array_elements_text(sub) loop
              if not instance ? reference then
                errors := errors || format('"%s" is a required property', reference);
              end if;
            end loop;
          else
            errors := errors || @extschema@._supadeploy_jsonschema_errors(sub, instance, root, depth + 1);
          end if;
        end if;
      end loop;
    end if;
  end if;

  if schema ? 'allOf' then
    for sub in select e.v from jsonb_array_elements(schema -> 'allOf') as e(v) loop
      errors := errors || @extschema@._supadeploy_jsonschema_errors(sub, instance, root, depth + 1);
    end loop;
  end if;
  if schema ? 'anyOf' and not exists (
      select from jsonb_array_elements(schema -> 'anyOf') as e(v)
      where cardinality(@extschema@._supadeploy_jsonschema_errors(e.v, instance, root, depth + 1)) = 0) then
    errors := errors || format('%s is not valid under any of the given schemas', instance);
  end if;
  if schema ? 'oneOf' then
    select count(*) into valid from jsonb_array_elements(schema -> 'oneOf') as e(v)
    where cardinality(@extschema@._supadeploy_jsonschema_errors(e.v, instance, root, depth + 1)) = 0;
    if valid = 0 then
      errors := errors || format('%s is not valid under any of the given schemas', instance);
    elsif valid > 1 then
      errors := errors || format('%s is valid under more than one of the given schemas', instance);
    end if;
  end if;
  if schema ? 'not'
     and cardinality(@extschema@._supadeploy_jsonschema_errors(schema -> 'not', instance, root, depth + 1)) = 0 then
    errors := errors || format('%s is not allowed for %s', schema -> 'not', instance);
  end if;
  if schema ? 'if' then
    if cardinality(@extschema@._supadeploy_jsonschema_errors(schema -> 'if', instance, root, depth + 1)) = 0 then
      if schema ? 'then' then
        errors := errors || @extschema@._supadeploy_jsonschema_errors(schema -> 'then', instance, root, depth + 1);
      end if;
    elsif schema ? 'else' then
      errors := errors || @extschema@._supadeploy_jsonschema_errors(schema -> 'else', instance, root, depth + 1);
    end if;
  end if;
  return errors;
end
$fn$;

-- The errors of an instance, after the schema itself is checked: an invalid schema is an error, as the real
-- validator refuses to compile it.
create function @extschema@._supadeploy_jsonschema_validate(schema jsonb, instance jsonb) returns text[]
language plpgsql immutable parallel safe as $fn$
declare
  problem text := @extschema@._supadeploy_jsonschema_problem(schema);
begin
  if problem is not null then
    raise exception using errcode = '22023', message = format('Invalid JSON schema: %s', problem);
  end if;
  return @extschema@._supadeploy_jsonschema_errors(schema, instance, schema, 0);
end
$fn$;

create function @extschema@.json_matches_schema(schema json, instance json) returns boolean
language sql immutable strict parallel safe as $fn$
  select cardinality(@extschema@._supadeploy_jsonschema_validate(schema::jsonb, instance::jsonb)) = 0
$fn$;

create function @extschema@.jsonb_matches_schema(schema json, instance jsonb) returns boolean
language sql immutable strict parallel safe as $fn$
  select cardinality(@extschema@._supadeploy_jsonschema_validate(schema::jsonb, instance)) = 0
$fn$;

create function @extschema@.jsonschema_is_valid(schema json) returns boolean
language plpgsql immutable strict parallel safe as $fn$
declare
  problem text := @extschema@._supadeploy_jsonschema_problem(schema::jsonb);
begin
  if problem is not null then
    raise notice 'Invalid JSON schema: %', problem;
  end if;
  return problem is null;
end
$fn$;

create function @extschema@.jsonschema_validation_errors(schema json, instance json) returns text[]
language plpgsql immutable strict parallel safe as $fn$
declare
  problem text := @extschema@._supadeploy_jsonschema_problem(schema::jsonb);
begin
  if problem is not null then
    return array[problem];
  end if;
  return @extschema@._supadeploy_jsonschema_errors(schema::jsonb, instance::jsonb, schema::jsonb, 0);
end
$fn$;
