-- autogen-audit schema v3: views for the questions SREs ask every day.
-- Applied idempotently at start by collector (statements separated by ";" at line end).
-- Views are plain (not materialized): they read events/tasks at query time, so they are always
-- exact and cost nothing on the write path. Under a cluster they run with the invoker's rights,
-- so row policies on the base tables still restrict a tenant user to its own rows.
-- Every column is documented in docs/schema.md; a test keeps the two in step.

-- One row per tenant and UTC day of task start: volume, outcome mix, duration and tokens.
CREATE VIEW IF NOT EXISTS v_task_summary_daily AS
SELECT
    tenant_id,
    toDate(started_at) AS day,
    count() AS tasks,
    countIf(status = 'normal') AS normal_tasks,
    countIf(abnormal = 1) AS abnormal_tasks,
    countIf(status = 'error') AS error_tasks,
    countIf(status = 'unfinished') AS unfinished_tasks,
    countIf(status = 'running') AS running_tasks,
    round(countIf(abnormal = 1) / count(), 4) AS abnormal_rate,
    round(avgIf(dateDiff('millisecond', started_at, finished_at), finished_at IS NOT NULL) / 1000, 3)
        AS avg_duration_s,
    round(quantileIf(0.95)(dateDiff('millisecond', started_at, finished_at), finished_at IS NOT NULL) / 1000, 3)
        AS p95_duration_s,
    sum(message_count) AS messages,
    sum(prompt_tokens) AS prompt_tokens,
    sum(completion_tokens) AS completion_tokens,
    uniqExact(user_id) AS users
FROM tasks FINAL
GROUP BY tenant_id, day;

-- One row per tenant, day, team and how the task ended; the rate is within the tenant/day/team.
CREATE VIEW IF NOT EXISTS v_abnormal_stops AS
SELECT
    tenant_id,
    day,
    team_type,
    team_id,
    status,
    stop_reason_class,
    tasks,
    sum(tasks) OVER (PARTITION BY tenant_id, day, team_type, team_id) AS team_tasks,
    round(tasks / team_tasks, 4) AS share,
    abnormal
FROM
(
    SELECT
        tenant_id,
        toDate(started_at) AS day,
        team_type,
        team_id,
        status,
        -- Stop reasons carry counts ("Maximum number of messages 10 reached ..."): fold digits so
        -- that the same cause groups together.
        replaceRegexpAll(if(stop_reason = '', status, stop_reason), '[0-9]+', 'N') AS stop_reason_class,
        count() AS tasks,
        max(abnormal) AS abnormal
    FROM tasks FINAL
    WHERE status != 'running'
    GROUP BY tenant_id, day, team_type, team_id, status, stop_reason_class
);

-- One row per model call (plain or streamed) with its latency and tokens.
CREATE VIEW IF NOT EXISTS v_llm_calls AS
SELECT
    tenant_id,
    correlation_id,
    seq,
    ts,
    toDate(ts) AS day,
    team_type,
    sender AS agent,
    model,
    prompt_tokens,
    completion_tokens,
    toUInt64(prompt_tokens) + completion_tokens AS total_tokens,
    duration_ms,
    is_error,
    CAST(kind = 'llm_stream_end', 'UInt8') AS streamed
FROM events
WHERE kind IN ('llm_call', 'llm_stream_end');

-- One row per tenant, day and model: call volume, latency percentiles, tokens.
CREATE VIEW IF NOT EXISTS v_llm_usage_daily AS
SELECT
    tenant_id,
    toDate(ts) AS day,
    model,
    count() AS calls,
    countIf(is_error = 1) AS errors,
    round(quantile(0.5)(duration_ms), 1) AS p50_ms,
    round(quantile(0.95)(duration_ms), 1) AS p95_ms,
    round(max(duration_ms), 1) AS max_ms,
    sum(prompt_tokens) AS prompt_tokens,
    sum(completion_tokens) AS completion_tokens,
    toUInt64(prompt_tokens + completion_tokens) AS total_tokens
FROM events
WHERE kind IN ('llm_call', 'llm_stream_end')
GROUP BY tenant_id, day, model;

-- One row per tool call with its duration and outcome.
CREATE VIEW IF NOT EXISTS v_tool_calls AS
SELECT
    tenant_id,
    correlation_id,
    seq,
    ts,
    toDate(ts) AS day,
    team_type,
    sender AS agent,
    tool_name,
    duration_ms,
    is_error,
    error
FROM events
WHERE kind = 'tool_call';

-- One row per tenant, day and tool: volume, error rate, duration percentiles.
CREATE VIEW IF NOT EXISTS v_tool_stats_daily AS
SELECT
    tenant_id,
    toDate(ts) AS day,
    tool_name,
    count() AS calls,
    countIf(is_error = 1) AS errors,
    round(countIf(is_error = 1) / count(), 4) AS error_rate,
    round(quantile(0.5)(duration_ms), 1) AS p50_ms,
    round(quantile(0.95)(duration_ms), 1) AS p95_ms
FROM events
WHERE kind = 'tool_call'
GROUP BY tenant_id, day, tool_name;

-- One row per runtime failure: dropped messages, handler and agent construction exceptions,
-- and tasks that raised.
CREATE VIEW IF NOT EXISTS v_runtime_errors AS
SELECT
    tenant_id,
    correlation_id,
    seq,
    ts,
    toDate(ts) AS day,
    kind,
    sender,
    recipient,
    message_type,
    error
FROM events
WHERE kind IN ('message_dropped', 'handler_exception', 'agent_construction_exception', 'task_error');

-- One row per tenant and UTC hour: what the pipeline stored, lost and failed to redact.
CREATE VIEW IF NOT EXISTS v_pipeline_health AS
SELECT
    tenant_id,
    toStartOfHour(ts) AS hour,
    countIf(kind != 'loss') AS events_in,
    sumIf(JSONExtractUInt(payload, 'lost'), kind = 'loss') AS events_lost,
    round(events_lost / greatest(events_in + events_lost, 1), 6) AS loss_rate,
    countIf(kind != 'loss' AND redaction_status != 'ok') AS redaction_failures,
    countIf(truncated = 1) AS truncated_events,
    round(quantileIf(0.95)(dateDiff('millisecond', ts, ingested_at), kind != 'loss'), 1) AS p95_ingest_lag_ms
FROM events
GROUP BY tenant_id, hour;
