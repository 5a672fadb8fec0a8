-- The attacker's plants for search_path_shadowing.sh.
--
-- Run by psql as a superuser in the database under test, with
--   -v names='{"functions": [...], "operators": [...]}'   (shadowing_names.py's output)
-- The role pgm_attacker (NOLOGIN) must exist. It gets the schema app and creates in it, with
-- its own rights only, a shadowing overload of every pg_catalog function, aggregate and
-- operator whose name the code uses:
--
--   identical       the same name, argument types and result as each pg_catalog overload:
--                   it wins whenever app comes before pg_catalog on the path
--   text arguments  the overload with text in place of every regclass, regproc, regtype,
--                   name, oid, "char" (...) or "any" argument (an unknown literal prefers
--                   text, so it wins even with pg_catalog first: nextval('x'),
--                   pg_has_role('r', 'MEMBER'), pg_total_relation_size('t'), format('%s', t))
--   implicit cast   for arithmetic and comparison operators, the (left, right) pairs that
--                   pg_catalog serves only through an implicit cast, e.g. *(integer, numeric)
--
-- Every plant, when called, runs app.spy(id, label): once per session and plant (the flag
-- is a custom setting) it increments app.hits and app.hit_<id>, which a rolled-back
-- subtransaction does not undo, and raises WARNING 'PLANTED <label> ran as <role>'. It
-- then does what the pg_catalog original does, so the caller goes on as before.
-- app.plant lists the plants, app.not_planted what could not be planted and why.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE SCHEMA app AUTHORIZATION pgm_attacker;
SET ROLE pgm_attacker;
SET search_path = pg_catalog;
SET pgm_attacker.names = :'names';

GRANT USAGE ON SCHEMA app TO PUBLIC;
CREATE SEQUENCE app.hits;
GRANT USAGE, SELECT ON SEQUENCE app.hits TO PUBLIC;
CREATE TABLE app.plant (
    id     integer PRIMARY KEY,
    kind   text NOT NULL,   -- function, aggregate, operator
    origin text NOT NULL,   -- identical, text arguments, implicit cast
    name   text NOT NULL,   -- the pg_catalog name it shadows
    label  text NOT NULL    -- app.name(argument types)
);
CREATE TABLE app.not_planted (
    kind      text NOT NULL,
    name      text NOT NULL,
    signature text NOT NULL,
    reason    text NOT NULL
);
-- What shadowing_names.py found in the code: kind f (function) or o (operator).
CREATE TABLE app.scanned (kind text NOT NULL, name text NOT NULL);
INSERT INTO app.scanned
SELECT 'f', x FROM pg_catalog.jsonb_array_elements_text(pg_catalog.current_setting('pgm_attacker.names')::jsonb -> 'functions') x
UNION ALL
SELECT 'o', x FROM pg_catalog.jsonb_array_elements_text(pg_catalog.current_setting('pgm_attacker.names')::jsonb -> 'operators') x;
CREATE SEQUENCE app.plant_id_seq;
GRANT SELECT ON app.plant, app.not_planted, app.scanned TO PUBLIC;

CREATE FUNCTION app.spy(id integer, label text) RETURNS void
LANGUAGE plpgsql VOLATILE
AS $spy$
DECLARE
    flag text := pg_catalog.concat('pgm_attacker.fired_', id);
BEGIN
    IF COALESCE(pg_catalog.current_setting(flag, true), '') OPERATOR(pg_catalog.=) 'y' THEN
        RETURN;
    END IF;
    PERFORM pg_catalog.nextval('app.hits'::pg_catalog.regclass);
    PERFORM pg_catalog.nextval(pg_catalog.concat('app.hit_', id)::pg_catalog.regclass);
    PERFORM pg_catalog.set_config(flag, 'y', false);
    RAISE WARNING 'PLANTED % ran as %', label, CURRENT_USER;
END
$spy$;
GRANT EXECUTE ON FUNCTION app.spy(integer, text) TO PUBLIC;

-- Registers a plant: its id, sequence and metadata. Returns the id.
CREATE FUNCTION app.new_plant(kind text, origin text, name text, label text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    id integer := pg_catalog.nextval('app.plant_id_seq'::pg_catalog.regclass);
BEGIN
    EXECUTE pg_catalog.format('CREATE SEQUENCE app.%I', pg_catalog.concat('hit_', id));
    EXECUTE pg_catalog.format('GRANT USAGE, SELECT ON SEQUENCE app.%I TO PUBLIC', pg_catalog.concat('hit_', id));
    INSERT INTO app.plant VALUES (id, kind, origin, name, label);
    RETURN id;
END
$$;

-- A parameter name always quoted (quote_ident leaves unreserved keywords such as strict bare,
-- which CREATE FUNCTION does not accept as a parameter name).
CREATE FUNCTION app.quote_always(name text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN name OPERATOR(pg_catalog.<>) '' THEN
           pg_catalog.concat('"', pg_catalog.replace(name, '"', '""'), '"') END
$$;

-- The input arguments of a pg_catalog function, some types replaced (subst: type oid ->
-- replacement type name), names, modes and defaults kept: their declarations, the matching
-- arguments of a call of the original, and their types. OUT parameters are declared too
-- (outs) but are not part of the call. plpgsql numbers IN and OUT parameters alike ($n).
CREATE FUNCTION app.arglists(fn oid, subst jsonb, OUT args text[], OUT calls text[], OUT types text[],
                             OUT outs text[], OUT variadic_any boolean)
LANGUAGE plpgsql AS $$
DECLARE
    p pg_catalog.pg_proc;
    n integer;
    i integer;
    pos integer := 0;
    inpos integer := 0;
    mode "char";
    typ oid;
    tname text;
    def text;
BEGIN
    SELECT * INTO p FROM pg_catalog.pg_proc WHERE oid OPERATOR(pg_catalog.=) fn;
    args := '{}'; calls := '{}'; types := '{}'; outs := '{}';
    variadic_any := p.provariadic OPERATOR(pg_catalog.=) '"any"'::pg_catalog.regtype;
    n := COALESCE(pg_catalog.array_length(p.proallargtypes, 1), p.pronargs);
    FOR i IN 1 .. n LOOP
        mode := COALESCE(p.proargmodes[i], 'i');
        CONTINUE WHEN mode OPERATOR(pg_catalog.=) 't';
        pos := pos OPERATOR(pg_catalog.+) 1;
        typ := COALESCE(p.proallargtypes[i], p.proargtypes[i OPERATOR(pg_catalog.-) 1]);
        IF mode OPERATOR(pg_catalog.=) 'o' THEN
            outs := outs OPERATOR(pg_catalog.||) pg_catalog.concat_ws(' ', 'OUT', app.quote_always(p.proargnames[i]),
                                                                     pg_catalog.format_type(typ, NULL));
            CONTINUE;
        END IF;
        tname := COALESCE(subst ->> typ::text, pg_catalog.format_type(typ, NULL));
        inpos := inpos OPERATOR(pg_catalog.+) 1;
        def := pg_catalog.pg_get_function_arg_default(fn, inpos);
        args := args OPERATOR(pg_catalog.||) pg_catalog.concat_ws(' ',
                    CASE mode WHEN 'v' THEN 'VARIADIC' WHEN 'b' THEN 'INOUT' END,
                    app.quote_always(p.proargnames[i]), tname, 'DEFAULT ' OPERATOR(pg_catalog.||) def);
        types := types OPERATOR(pg_catalog.||) tname;
        calls := calls OPERATOR(pg_catalog.||) pg_catalog.concat(CASE mode WHEN 'v' THEN 'VARIADIC ' END, '$', pos,
                    CASE WHEN subst ? typ::text AND typ OPERATOR(pg_catalog.<>) '"any"'::pg_catalog.regtype
                         THEN '::' OPERATOR(pg_catalog.||) pg_catalog.format_type(typ, NULL) END);
    END LOOP;
END
$$;

-- Creates a plpgsql plant app.<name>(args) RETURNS result that spies, then calls the original.
CREATE FUNCTION app.plant_function(fn oid, origin text, args text, call text, types text, result text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    p pg_catalog.pg_proc;
    id integer;
    label text;
    body text;
    has_out boolean;
    outs text;
BEGIN
    SELECT * INTO p FROM pg_catalog.pg_proc WHERE oid OPERATOR(pg_catalog.=) fn;
    label := pg_catalog.format('app.%I(%s)', p.proname, types);
    SELECT pg_catalog.string_agg(app.quote_always(p.proargnames[k]), ', ' ORDER BY k)
      INTO outs
      FROM pg_catalog.generate_subscripts(p.proargmodes, 1) k
     WHERE p.proargmodes[k] OPERATOR(pg_catalog.=) ANY ('{o,b}');
    has_out := outs IS NOT NULL AND NOT p.proretset;
    id := app.new_plant('function', origin, p.proname::text, label);
    body := pg_catalog.format('PERFORM app.spy(%s, %L);', id, label) OPERATOR(pg_catalog.||) E'\n';
    IF p.proretset THEN
        body := body OPERATOR(pg_catalog.||) pg_catalog.format('RETURN QUERY SELECT * FROM %s;', call);
    ELSIF has_out THEN
        body := body OPERATOR(pg_catalog.||) pg_catalog.format('SELECT * INTO %s FROM %s;', outs, call);
    ELSIF p.prorettype OPERATOR(pg_catalog.=) 'pg_catalog.void'::pg_catalog.regtype THEN
        body := body OPERATOR(pg_catalog.||) pg_catalog.format('PERFORM %s;', call);
    ELSE
        body := body OPERATOR(pg_catalog.||) pg_catalog.format('RETURN %s;', call);
    END IF;
    EXECUTE pg_catalog.format(E'CREATE FUNCTION app.%I(%s) RETURNS %s LANGUAGE plpgsql %s CALLED ON NULL INPUT\nAS %L',
                              p.proname, args, result,
                              CASE p.provolatile WHEN 'i' THEN 'IMMUTABLE' WHEN 's' THEN 'STABLE' ELSE 'VOLATILE' END,
                              E'BEGIN\n' OPERATOR(pg_catalog.||) body OPERATOR(pg_catalog.||) E'\nEND');
    EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION app.%I(%s) TO PUBLIC', p.proname, types);
END
$$;

-- Creates a plant aggregate app.<name>(args) that computes what the pg_catalog aggregate does:
--   * when the original's transition state is an ordinary type: the same state, initial
--     value and final function, and as state function a spy that calls the original's
--     transition function (count(*), max, sum(integer), bool_or, ...);
--   * when the state is internal (string_agg, array_agg, jsonb_agg, sum(bigint), ...): a spy
--     state function collects the inputs in an array, and the final function (a spy too)
--     feeds them, in order, to the pg_catalog aggregate.
CREATE FUNCTION app.plant_aggregate(fn oid, origin text, argtypes text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    p pg_catalog.pg_proc;
    ag pg_catalog.pg_aggregate;
    tf pg_catalog.pg_proc;
    id integer;
    label text;
    nargs integer := COALESCE(pg_catalog.array_length(argtypes, 1), 0);
    sargs text := pg_catalog.array_to_string(argtypes, ', ');
    params text;
    elem text;
    stype text;
    sfunc text;
    ffunc text;
    spy text;
    ftype text;
    acceptable text[] := '{anyelement,anynonarray,anyenum,anyarray,anycompatible,anycompatiblenonarray,anycompatiblearray}';
BEGIN
    SELECT * INTO p FROM pg_catalog.pg_proc WHERE oid OPERATOR(pg_catalog.=) fn;
    SELECT * INTO ag FROM pg_catalog.pg_aggregate WHERE aggfnoid OPERATOR(pg_catalog.=) fn;
    SELECT * INTO tf FROM pg_catalog.pg_proc WHERE oid OPERATOR(pg_catalog.=) ag.aggtransfn;
    IF ag.aggkind OPERATOR(pg_catalog.<>) 'n' THEN
        RAISE EXCEPTION 'ordered-set or hypothetical-set aggregate';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_catalog.unnest(argtypes) t JOIN pg_catalog.pg_type y ON y.oid OPERATOR(pg_catalog.=) t::pg_catalog.regtype
                WHERE y.typtype OPERATOR(pg_catalog.=) 'p' AND t OPERATOR(pg_catalog.<>) ALL (acceptable)) THEN
        RAISE EXCEPTION 'pseudo-type argument % (PL/pgSQL functions cannot accept it)',
              (SELECT t FROM pg_catalog.unnest(argtypes) t JOIN pg_catalog.pg_type y ON y.oid OPERATOR(pg_catalog.=) t::pg_catalog.regtype
                WHERE y.typtype OPERATOR(pg_catalog.=) 'p' AND t OPERATOR(pg_catalog.<>) ALL (acceptable) LIMIT 1);
    END IF;
    label := pg_catalog.format('app.%I(%s)', p.proname, COALESCE(NULLIF(pg_catalog.array_to_string(argtypes, ','), ''), '*'));
    id := app.new_plant('aggregate', origin, p.proname::text, label);
    spy := pg_catalog.format('PERFORM app.spy(%s, %L);', id, label);
    sfunc := pg_catalog.format('app.%I', pg_catalog.concat('plant_sfunc_', id));
    ffunc := pg_catalog.format('app.%I', pg_catalog.concat('plant_final_', id));
    ftype := pg_catalog.format_type(p.prorettype, NULL);
    params := (SELECT pg_catalog.string_agg(pg_catalog.concat('$', k), ', ') FROM pg_catalog.generate_series(2, nargs OPERATOR(pg_catalog.+) 1) k);
    IF ag.aggtranstype OPERATOR(pg_catalog.<>) 'pg_catalog.internal'::pg_catalog.regtype
       AND (ag.aggfinalfn OPERATOR(pg_catalog.=) 0 OR NOT ag.aggfinalextra) THEN
        stype := pg_catalog.format_type(ag.aggtranstype, NULL);
        EXECUTE pg_catalog.format(E'CREATE FUNCTION %s(%s) RETURNS %s LANGUAGE plpgsql %s AS %L', sfunc,
                                  pg_catalog.concat_ws(', ', stype, NULLIF(sargs, '')), stype,
                                  CASE WHEN tf.proisstrict THEN 'STRICT' ELSE 'CALLED ON NULL INPUT' END,
                                  pg_catalog.format(E'BEGIN\n%s\nRETURN pg_catalog.%I(%s);\nEND', spy, tf.proname,
                                                    pg_catalog.concat_ws(', ', '$1', params)));
        EXECUTE pg_catalog.format(E'CREATE FUNCTION %s(%s) RETURNS %s LANGUAGE plpgsql AS %L', ffunc, stype, ftype,
                                  pg_catalog.format(E'BEGIN\n%s\nRETURN %s;\nEND', spy,
                                                    CASE WHEN ag.aggfinalfn OPERATOR(pg_catalog.=) 0 THEN '$1'
                                                         ELSE pg_catalog.format('pg_catalog.%I($1)',
                                                              (SELECT proname FROM pg_catalog.pg_proc WHERE oid OPERATOR(pg_catalog.=) ag.aggfinalfn)) END));
        EXECUTE pg_catalog.format('CREATE AGGREGATE app.%I(%s) (SFUNC = %s, STYPE = %s, FINALFUNC = %s%s)',
                                  p.proname, COALESCE(NULLIF(sargs, ''), '*'), sfunc, stype, ffunc,
                                  CASE WHEN ag.agginitval IS NOT NULL
                                       THEN ', INITCOND = ' OPERATOR(pg_catalog.||) pg_catalog.quote_literal(ag.agginitval) ELSE '' END);
    ELSE
        IF EXISTS (SELECT 1 FROM pg_catalog.unnest(argtypes) t WHERE t OPERATOR(pg_catalog.<>) argtypes[1]) THEN
            RAISE EXCEPTION 'internal state, and arguments of different types (the plant collects them in one array)';
        END IF;
        elem := argtypes[1];
        IF elem OPERATOR(pg_catalog.=) ANY ('{anyarray,anycompatiblearray}') OR elem OPERATOR(pg_catalog.~~) '%[]' THEN
            RAISE EXCEPTION 'internal state, and array arguments (the plant collects the inputs in an array)';
        END IF;
        stype := CASE WHEN elem OPERATOR(pg_catalog.=) ANY ('{anyelement,anynonarray,anyenum}') THEN 'anyarray'
                      WHEN elem OPERATOR(pg_catalog.=) ANY ('{anycompatible,anycompatiblenonarray}') THEN 'anycompatiblearray'
                      ELSE elem OPERATOR(pg_catalog.||) '[]' END;
        IF nargs OPERATOR(pg_catalog.=) 1 THEN
            EXECUTE pg_catalog.format(E'CREATE FUNCTION %s(%s, %s) RETURNS %s LANGUAGE plpgsql AS %L', sfunc, stype, elem, stype,
                                      pg_catalog.format(E'BEGIN\n%s\nRETURN pg_catalog.array_append($1, $2);\nEND', spy));
            EXECUTE pg_catalog.format(E'CREATE FUNCTION %s(%s) RETURNS %s LANGUAGE plpgsql AS %L', ffunc, stype, ftype,
                                      pg_catalog.format(E'BEGIN\n%s\nRETURN (SELECT pg_catalog.%I(u.x ORDER BY u.o) FROM pg_catalog.unnest($1) WITH ORDINALITY AS u(x, o));\nEND',
                                                        spy, p.proname));
        ELSE
            -- Several arguments of one type: one row of a two-dimensional array per input row.
            EXECUTE pg_catalog.format(E'CREATE FUNCTION %s(%s, %s) RETURNS %s LANGUAGE plpgsql AS %L', sfunc, stype, sargs, stype,
                                      pg_catalog.format(E'BEGIN\n%s\nRETURN pg_catalog.array_cat($1, ARRAY[ARRAY[%s]]);\nEND', spy, params));
            EXECUTE pg_catalog.format(E'CREATE FUNCTION %s(%s) RETURNS %s LANGUAGE plpgsql AS %L', ffunc, stype, ftype,
                                      pg_catalog.format(E'BEGIN\n%s\nRETURN (SELECT pg_catalog.%I(%s ORDER BY r) FROM pg_catalog.generate_subscripts($1, 1) AS r);\nEND',
                                                        spy, p.proname,
                                                        (SELECT pg_catalog.string_agg(pg_catalog.format('$1[r][%s]', k), ', ')
                                                           FROM pg_catalog.generate_series(1, nargs) k)));
        END IF;
        EXECUTE pg_catalog.format('CREATE AGGREGATE app.%I(%s) (SFUNC = %s, STYPE = %s, FINALFUNC = %s, FINALFUNC_MODIFY = READ_ONLY)',
                                  p.proname, sargs, sfunc, stype, ffunc);
    END IF;
    EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION app.%I(%s) TO PUBLIC', p.proname, sargs);
END
$$;

-- Creates a plant operator app.<op>(left, right) RETURNS result: a plpgsql function that
-- spies, then computes what the pg_catalog operator (impl) computes.
CREATE FUNCTION app.plant_operator(opname text, origin text, lefttype text, righttype text, result text,
                                   expr text, rest regproc, joinsel regproc)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    id integer;
    label text;
    fname text;
    -- The original's selectivity estimators, so that plans stay close to the original's;
    -- the pattern ones need a negator the plant does not have, and are left out.
    estimators text[] := '{eqsel,neqsel,scalarltsel,scalarlesel,scalargtsel,scalargesel,eqjoinsel,neqjoinsel,scalarltjoinsel,scalarlejoinsel,scalargtjoinsel,scalargejoinsel}';
BEGIN
    label := pg_catalog.format('app.%s(%s,%s)', opname, COALESCE(lefttype, 'NONE'), righttype);
    id := app.new_plant('operator', origin, opname, label);
    fname := pg_catalog.format('app.%I', pg_catalog.concat('plant_op_', id));
    EXECUTE pg_catalog.format(E'CREATE FUNCTION %s(%s) RETURNS %s LANGUAGE plpgsql CALLED ON NULL INPUT AS %L',
                              fname, pg_catalog.concat_ws(', ', lefttype, righttype), result,
                              pg_catalog.format(E'BEGIN\nPERFORM app.spy(%s, %L);\nRETURN %s;\nEND', id, label, expr));
    EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s(%s) TO PUBLIC', fname, pg_catalog.concat_ws(', ', lefttype, righttype));
    EXECUTE pg_catalog.format('CREATE OPERATOR app.%s (%s RIGHTARG = %s, FUNCTION = %s%s%s)', opname,
                              CASE WHEN lefttype IS NOT NULL THEN pg_catalog.format('LEFTARG = %s,', lefttype) ELSE '' END,
                              righttype, fname,
                              CASE WHEN rest::text OPERATOR(pg_catalog.=) ANY (estimators) THEN ', RESTRICT = pg_catalog.' OPERATOR(pg_catalog.||) rest::text ELSE '' END,
                              CASE WHEN joinsel::text OPERATOR(pg_catalog.=) ANY (estimators) THEN ', JOIN = pg_catalog.' OPERATOR(pg_catalog.||) joinsel::text ELSE '' END);
END
$$;

DO $plant$
DECLARE
    r record;
    sig text;
    al record;
    text_subst jsonb;
    extra integer;
    nfixed integer;
    alt_args text[];
    alt_types text[];
    alt_calls text[];
    res text;
    lt text;
    rt text;
    types text[] := ARRAY['smallint', 'integer', 'bigint', 'numeric', 'real', 'double precision', 'interval',
                          'timestamp with time zone', 'date', 'text', 'name', 'oid'];
    arith text[] := '{=,<>,<,>,<=,>=,+,-,*,/,%,^}';
BEGIN
    -- The types an unknown literal or a text value reaches only through a cast: their
    -- text-argument overload is a better match.
    SELECT pg_catalog.jsonb_object_agg(t::pg_catalog.regtype::oid::text, 'text')
      INTO text_subst
      FROM pg_catalog.unnest(ARRAY['regclass', 'regproc', 'regprocedure', 'regtype', 'regnamespace', 'regrole',
                                   'regoper', 'regoperator', 'regconfig', 'regdictionary', 'regcollation',
                                   'name', 'oid', '"char"', '"any"']) t;

    -- Functions and aggregates: every pg_catalog overload of every name the code uses.
    FOR r IN
        SELECT p.oid, p.proname, p.prokind, p.oid::pg_catalog.regprocedure::text AS sig, p.proargtypes::oid[] AS argtypes
          FROM pg_catalog.pg_proc p
         WHERE p.pronamespace OPERATOR(pg_catalog.=) 'pg_catalog'::pg_catalog.regnamespace
           AND p.proname::text OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT name FROM app.scanned WHERE kind OPERATOR(pg_catalog.=) 'f'))
         ORDER BY p.proname, p.oid
    LOOP
        IF r.prokind OPERATOR(pg_catalog.=) 'w' THEN
            INSERT INTO app.not_planted VALUES ('function', r.proname, r.sig,
                'window function (only C code can define one; an aggregate cannot take zero arguments without *)');
            CONTINUE;
        END IF;
        IF r.prokind OPERATOR(pg_catalog.=) 'p' THEN
            CONTINUE;
        END IF;
        -- identical signature
        BEGIN
            IF r.prokind OPERATOR(pg_catalog.=) 'a' THEN
                PERFORM app.plant_aggregate(r.oid, 'identical',
                    ARRAY(SELECT pg_catalog.format_type(t, NULL) FROM pg_catalog.unnest(r.argtypes) t));
            ELSE
                SELECT * INTO al FROM app.arglists(r.oid, '{}');
                PERFORM app.plant_function(r.oid, 'identical', pg_catalog.array_to_string(al.args || al.outs, ', '),
                                           pg_catalog.format('pg_catalog.%I(%s)', r.proname, pg_catalog.array_to_string(al.calls, ', ')),
                                           pg_catalog.array_to_string(al.types, ','), pg_catalog.pg_get_function_result(r.oid));
            END IF;
        EXCEPTION WHEN OTHERS THEN
            INSERT INTO app.not_planted VALUES (CASE r.prokind WHEN 'a' THEN 'aggregate' ELSE 'function' END, r.proname, r.sig, SQLERRM);
        END;
        -- text in place of regclass, name, oid, "char", "any", ...
        CONTINUE WHEN NOT EXISTS (SELECT 1 FROM pg_catalog.unnest(r.argtypes) t WHERE text_subst ? t::text);
        IF r.prokind OPERATOR(pg_catalog.=) 'a' THEN
            alt_types := ARRAY(SELECT COALESCE(text_subst ->> t::text, pg_catalog.format_type(t, NULL)) FROM pg_catalog.unnest(r.argtypes) t);
            sig := pg_catalog.format('%I(%s)', r.proname, pg_catalog.array_to_string(alt_types, ','));
            CONTINUE WHEN pg_catalog.to_regprocedure('pg_catalog.' OPERATOR(pg_catalog.||) sig) IS NOT NULL;
            CONTINUE WHEN EXISTS (SELECT 1 FROM app.plant WHERE label OPERATOR(pg_catalog.=) ('app.' OPERATOR(pg_catalog.||) sig));
            BEGIN
                PERFORM app.plant_aggregate(r.oid, 'text arguments', alt_types);
            EXCEPTION WHEN OTHERS THEN
                INSERT INTO app.not_planted VALUES ('aggregate', r.proname, sig, SQLERRM);
            END;
            CONTINUE;
        END IF;
        SELECT * INTO al FROM app.arglists(r.oid, text_subst);
        FOR extra IN 0 .. CASE WHEN al.variadic_any THEN 9 ELSE 0 END LOOP
            IF al.variadic_any THEN
                -- VARIADIC "any": one overload per number of variadic arguments, all text.
                nfixed := pg_catalog.array_length(al.types, 1) OPERATOR(pg_catalog.-) 1;
                CONTINUE WHEN extra OPERATOR(pg_catalog.=) 0;
                alt_args := al.args[1:nfixed] OPERATOR(pg_catalog.||)
                            ARRAY(SELECT 'text' FROM pg_catalog.generate_series(1, extra));
                alt_types := al.types[1:nfixed] OPERATOR(pg_catalog.||)
                             ARRAY(SELECT 'text' FROM pg_catalog.generate_series(1, extra));
                alt_calls := al.calls[1:nfixed] OPERATOR(pg_catalog.||)
                             ARRAY(SELECT pg_catalog.concat('$', nfixed OPERATOR(pg_catalog.+) g) FROM pg_catalog.generate_series(1, extra) g);
            ELSE
                alt_args := al.args; alt_types := al.types; alt_calls := al.calls;
            END IF;
            sig := pg_catalog.format('%I(%s)', r.proname, pg_catalog.array_to_string(alt_types, ','));
            CONTINUE WHEN pg_catalog.to_regprocedure('pg_catalog.' OPERATOR(pg_catalog.||) sig) IS NOT NULL;
            CONTINUE WHEN EXISTS (SELECT 1 FROM app.plant WHERE label OPERATOR(pg_catalog.=) ('app.' OPERATOR(pg_catalog.||) sig));
            BEGIN
                PERFORM app.plant_function(r.oid, 'text arguments', pg_catalog.array_to_string(alt_args || al.outs, ', '),
                                           pg_catalog.format('pg_catalog.%I(%s)', r.proname, pg_catalog.array_to_string(alt_calls, ', ')),
                                           pg_catalog.array_to_string(alt_types, ','), pg_catalog.pg_get_function_result(r.oid));
            EXCEPTION WHEN OTHERS THEN
                INSERT INTO app.not_planted VALUES ('function', r.proname, sig, SQLERRM);
            END;
        END LOOP;
    END LOOP;

    -- Operators: every pg_catalog operator of every operator name the code uses.
    FOR r IN
        SELECT o.oid, o.oprname, o.oprleft, o.oprright, o.oprresult, o.oprcode, o.oprrest, o.oprjoin,
               o.oid::pg_catalog.regoperator::text AS sig
          FROM pg_catalog.pg_operator o
         WHERE o.oprnamespace OPERATOR(pg_catalog.=) 'pg_catalog'::pg_catalog.regnamespace
           AND o.oprname::text OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT name FROM app.scanned WHERE kind OPERATOR(pg_catalog.=) 'o'))
         ORDER BY o.oprname, o.oid
    LOOP
        BEGIN
            PERFORM app.plant_operator(r.oprname::text, 'identical',
                CASE WHEN r.oprleft OPERATOR(pg_catalog.<>) 0 THEN pg_catalog.format_type(r.oprleft, NULL) END,
                pg_catalog.format_type(r.oprright, NULL), pg_catalog.format_type(r.oprresult, NULL),
                pg_catalog.format('pg_catalog.%I(%s)', (SELECT proname FROM pg_catalog.pg_proc WHERE oid OPERATOR(pg_catalog.=) r.oprcode),
                                  CASE WHEN r.oprleft OPERATOR(pg_catalog.<>) 0 THEN '$1, $2' ELSE '$1' END),
                r.oprrest, r.oprjoin);
        EXCEPTION WHEN OTHERS THEN
            INSERT INTO app.not_planted VALUES ('operator', r.oprname, r.sig, SQLERRM);
        END;
    END LOOP;

    -- Operators reached through an implicit cast: (integer, numeric), (numeric, interval), ...
    FOR r IN
        SELECT name AS oprname FROM app.scanned
         WHERE kind OPERATOR(pg_catalog.=) 'o' AND name OPERATOR(pg_catalog.=) ANY (arith)
    LOOP
        FOREACH lt IN ARRAY types LOOP
            FOREACH rt IN ARRAY types LOOP
                CONTINUE WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_operator o
                                       WHERE o.oprname OPERATOR(pg_catalog.=) r.oprname
                                         AND o.oprnamespace OPERATOR(pg_catalog.=) 'pg_catalog'::pg_catalog.regnamespace
                                         AND o.oprleft OPERATOR(pg_catalog.=) lt::pg_catalog.regtype
                                         AND o.oprright OPERATOR(pg_catalog.=) rt::pg_catalog.regtype);
                BEGIN
                    EXECUTE pg_catalog.format('SELECT pg_catalog.pg_typeof(NULL::%s OPERATOR(pg_catalog.%s) NULL::%s)::text', lt, r.oprname, rt)
                       INTO res;
                EXCEPTION WHEN OTHERS THEN
                    CONTINUE;  -- pg_catalog has no such operator, even through a cast
                END;
                BEGIN
                    PERFORM app.plant_operator(r.oprname, 'implicit cast', lt, rt, res,
                        pg_catalog.format('$1 OPERATOR(pg_catalog.%s) $2', r.oprname), NULL, NULL);
                EXCEPTION WHEN OTHERS THEN
                    INSERT INTO app.not_planted VALUES ('operator', r.oprname, pg_catalog.format('%s(%s,%s)', r.oprname, lt, rt), SQLERRM);
                END;
            END LOOP;
        END LOOP;
    END LOOP;
END
$plant$;

RESET ROLE;
