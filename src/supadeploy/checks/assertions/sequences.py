"""Putting back the sequence values the assertions drew: PL/pgSQL fragments of the assertion function.

Everything an assertion does is rolled back except what PostgreSQL never rolls back: `nextval` and `setval`.
So the function notes `(last_value, is_called)` of every sequence the executing role can read and update
(one statement over all of them) before the first assertion, and after the last one puts back, with `setval`
(itself not rolled back, so it holds even inside the rolled-back request or a deploy that the gate aborts),
each sequence whose state changed, but only where the assertions' own draw is still the last one:

- the change is this session's: `currval` (this session's last draw, kept through rollbacks) lies beyond the
  noted state, or is the current value itself; a sequence that only other sessions advanced is not touched;
- nobody drew after it: the sequence's `last_value` is still `currval` (or within this session's cached block,
  for `CACHE` > 1), checked in the same statement as the `setval` (compare and set), so a value an application
  drew meanwhile is never handed out twice. Otherwise the sequence is left where it is and reported.

Sequences the role cannot read and update (or whose schema it cannot use), and temporary ones, are skipped.
See docs/assertions.md, "What a verify leaves behind".
"""

from __future__ import annotations

from typing import Any

from ...model import Problem

# Variables the fragments use, added to the function's DECLARE (every name starts with sd_seq, no kind uses it).
DECLARE = """\
  sd_seq_query text; sd_seq_before jsonb; sd_seq record; sd_seq_mine bigint; sd_seq_rows bigint; sd_seq_now bigint;
  sd_seq_restored jsonb := '[]'::jsonb; sd_seq_left jsonb := '[]'::jsonb;
  sd_seq_state text; sd_seq_message text; sd_seq_detail text; sd_seq_hint text;
"""

# Before the first assertion: one UNION ALL query reading every sequence's row (kept, to read them again at the
# end) and its answer: one pass over pg_class, one statement, whatever the number of sequences. If it cannot
# run (a lock another session holds on a sequence outlasts lock_timeout, say), the assertions run all the same
# and nothing is put back: said in the answer, never a failure.
SNAPSHOT = """\
  BEGIN
    SELECT pg_catalog.string_agg(pg_catalog.format(
             'SELECT %s::pg_catalog.oid AS id, last_value, is_called FROM %I.%I', sd_seq_c.oid, sd_seq_n.nspname,
             sd_seq_c.relname), ' UNION ALL ' ORDER BY sd_seq_c.oid)
      INTO sd_seq_query
      FROM pg_catalog.pg_class sd_seq_c JOIN pg_catalog.pg_namespace sd_seq_n ON sd_seq_n.oid = sd_seq_c.relnamespace
     WHERE sd_seq_c.relkind = 'S' AND sd_seq_c.relpersistence <> 't'
       AND CASE WHEN sd_seq_c.relkind = 'S'  -- the planner may test privileges first: only ask about sequences
                THEN pg_catalog.has_schema_privilege(sd_seq_n.oid, 'USAGE')
                     AND pg_catalog.has_sequence_privilege(sd_seq_c.oid, 'SELECT')
                     AND pg_catalog.has_sequence_privilege(sd_seq_c.oid, 'UPDATE') END;
    IF sd_seq_query IS NOT NULL THEN
      EXECUTE 'SELECT pg_catalog.jsonb_object_agg(id, pg_catalog.jsonb_build_array(last_value, is_called)) FROM ('
              || sd_seq_query || ') s' INTO sd_seq_before;
    END IF;
  EXCEPTION WHEN OTHERS THEN
    sd_seq_before := NULL;
    sd_seq_left := pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
      'sequence', NULL, 'reason', pg_catalog.format('%s: %s', SQLSTATE, SQLERRM)));
  END;
  BEGIN
"""

# After the last assertion. An error that escaped the assertions' own blocks (a statement timeout, a cancel)
# is held while the sequences are put back, then raised again. Each changed sequence is put back in a block of
# its own: one that cannot be (a lock, say) is reported and left, and the others are still put back.
RESTORE = """\
  EXCEPTION WHEN query_canceled OR assert_failure OR others THEN
    GET STACKED DIAGNOSTICS sd_seq_state = RETURNED_SQLSTATE, sd_seq_message = MESSAGE_TEXT,
                            sd_seq_detail = PG_EXCEPTION_DETAIL, sd_seq_hint = PG_EXCEPTION_HINT;
  END;
  IF sd_seq_before IS NOT NULL THEN
    FOR sd_seq IN EXECUTE
        'SELECT s.id, n.nspname, c.relname, (b.value->>0)::bigint AS last0, (b.value->>1)::boolean AS called0,'
        ' s.last_value AS last1, s.is_called AS called1, p.seqincrement AS step, p.seqcache AS cache'
        ' FROM (' || sd_seq_query || ') s'
        ' JOIN pg_catalog.jsonb_each($1) b ON b.key = s.id::text'
        ' JOIN pg_catalog.pg_sequence p ON p.seqrelid = s.id'
        ' JOIN pg_catalog.pg_class c ON c.oid = s.id JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace'
        ' WHERE b.value <> pg_catalog.jsonb_build_array(s.last_value, s.is_called)'
        USING sd_seq_before
    LOOP
      BEGIN
        sd_seq_mine := NULL;
        BEGIN
          sd_seq_mine := pg_catalog.currval(sd_seq.id::pg_catalog.regclass);
        EXCEPTION WHEN object_not_in_prerequisite_state THEN NULL;  -- this session never drew from it
        END;
        -- Ours when this session's last draw lies beyond the noted state (or is the state itself, e.g. an
        -- assertion's setval); a sequence only other sessions advanced is not touched.
        CONTINUE WHEN sd_seq_mine IS NULL OR NOT (
          (sd_seq_mine::numeric - sd_seq.last0) * pg_catalog.sign(sd_seq.step) > 0
          OR (NOT sd_seq.called0 AND sd_seq_mine = sd_seq.last0)
          OR (sd_seq.called1 AND sd_seq_mine = sd_seq.last1));
        -- Put back only if this session's draw is still the last one (its value, or the end of the block of
        -- values it cached), compared again in the very statement that sets it.
        sd_seq_rows := 0;
        IF sd_seq.called1 AND (sd_seq.last1::numeric - sd_seq_mine) * pg_catalog.sign(sd_seq.step)
                              BETWEEN 0 AND (sd_seq.cache - 1) * pg_catalog.abs(sd_seq.step::numeric) THEN
          EXECUTE pg_catalog.format(
            'SELECT pg_catalog.setval(%s::pg_catalog.regclass, %s, %L) FROM %I.%I WHERE last_value = %s AND is_called',
            sd_seq.id, sd_seq.last0, sd_seq.called0, sd_seq.nspname, sd_seq.relname, sd_seq.last1);
          GET DIAGNOSTICS sd_seq_rows = ROW_COUNT;
        END IF;
        IF sd_seq_rows = 1 THEN
          sd_seq_restored := sd_seq_restored || pg_catalog.to_jsonb(pg_catalog.format('%I.%I', sd_seq.nspname,
                                                                                        sd_seq.relname));
        ELSE
          EXECUTE pg_catalog.format('SELECT last_value FROM %I.%I', sd_seq.nspname, sd_seq.relname) INTO sd_seq_now;
          sd_seq_left := sd_seq_left || pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
            'sequence', pg_catalog.format('%I.%I', sd_seq.nspname, sd_seq.relname), 'left_at', sd_seq_now));
        END IF;
      EXCEPTION WHEN OTHERS THEN
        sd_seq_left := sd_seq_left || pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
          'sequence', pg_catalog.format('%I.%I', sd_seq.nspname, sd_seq.relname),
          'reason', pg_catalog.format('%s: %s', SQLSTATE, SQLERRM)));
      END;
    END LOOP;
  END IF;
  IF sd_seq_state IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = sd_seq_state, MESSAGE = sd_seq_message, DETAIL = sd_seq_detail,
                          HINT = sd_seq_hint;
  END IF;
"""

# The function's answer: the verdicts, and what became of the sequences.
RESULT = ("pg_catalog.jsonb_build_object('results', results, 'sequences', "
          "pg_catalog.jsonb_build_object('restored', sd_seq_restored, 'left', sd_seq_left))")


def left_alone(raw: Any) -> list[Problem]:
    """A warning for each sequence the assertions drew from that could not be put back: another session drew
    from it too (never moved back over that), or putting it back failed; or for all of them, when they could
    not be noted first."""
    found = []
    for item in (raw or {}).get("left", []):
        name, reason = item.get("sequence"), item.get("reason")
        if name is None:
            message = (f"sequence values could not be noted before the assertions ({reason}): the values they drew "
                       "stay drawn")
        elif reason:
            message = f"sequence {name} could not be put back ({reason}): the values the assertions drew stay drawn"
        else:
            message = (f"sequence {name} was also advanced by another session while the assertions ran; left at "
                       f"{item.get('left_at')} (the values the assertions drew from it stay drawn)")
        found.append(Problem(message, title="Sequence left advanced", kind="sequence-left-advanced"))
    return found


def restored(raw: Any) -> list[str]:
    """The sequences whose values were put back."""
    return [str(name) for name in (raw or {}).get("restored", [])]
