--
-- PostgreSQL database dump
--


-- Dumped from database version 15.20 (Debian 15.20-0+deb12u1)
-- Dumped by pg_dump version 15.20 (Debian 15.20-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: auth_accounts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.auth_accounts (
    id uuid NOT NULL,
    email character varying(320) NOT NULL,
    role character varying(16) NOT NULL,
    password_hash character varying(255),
    email_verified boolean NOT NULL,
    created_at timestamp with time zone NOT NULL,
    last_sign_in_at timestamp with time zone
);


--
-- Name: auth_api_keys; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.auth_api_keys (
    id uuid NOT NULL,
    account_id uuid NOT NULL,
    name character varying(255) NOT NULL,
    prefix character varying(16) NOT NULL,
    key_hash character varying(64) NOT NULL,
    scopes json NOT NULL,
    created_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone,
    last_used_at timestamp with time zone,
    revoked_at timestamp with time zone
);


--
-- Name: auth_refresh_tokens; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.auth_refresh_tokens (
    id uuid NOT NULL,
    account_id uuid NOT NULL,
    family_id uuid NOT NULL,
    token_hash character varying(64) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    spent_at timestamp with time zone,
    revoked_at timestamp with time zone
);


--
-- Name: credit_accounts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.credit_accounts (
    account_id uuid NOT NULL,
    paid integer NOT NULL,
    trial integer NOT NULL,
    trial_expires_at timestamp with time zone,
    reserved integer NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL
);


--
-- Name: credit_ledger; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.credit_ledger (
    id integer NOT NULL,
    account_id uuid NOT NULL,
    job_id uuid,
    kind character varying(16) NOT NULL,
    amount integer NOT NULL,
    paid_after integer NOT NULL,
    trial_after integer NOT NULL,
    reserved_after integer NOT NULL,
    note character varying(255),
    created_at timestamp with time zone NOT NULL
);


--
-- Name: credit_ledger_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.credit_ledger_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: credit_ledger_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.credit_ledger_id_seq OWNED BY public.credit_ledger.id;


--
-- Name: credit_reservations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.credit_reservations (
    job_id uuid NOT NULL,
    account_id uuid NOT NULL,
    trial_part integer NOT NULL,
    paid_part integer NOT NULL,
    charged integer NOT NULL,
    state character varying(16) NOT NULL,
    updated_at timestamp with time zone NOT NULL
);


--
-- Name: idempotency_keys; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.idempotency_keys (
    account_id uuid NOT NULL,
    route character varying(64) NOT NULL,
    key character varying(255) NOT NULL,
    request_hash character varying(64) NOT NULL,
    state character varying(16) NOT NULL,
    locked_until timestamp with time zone NOT NULL,
    response bytea,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: ingest_drive_credentials; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ingest_drive_credentials (
    id uuid NOT NULL,
    account_id uuid NOT NULL,
    name character varying(255) NOT NULL,
    client_email character varying(320) NOT NULL,
    project_id character varying(255) NOT NULL,
    sealed_key text NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: ingest_file_contents; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ingest_file_contents (
    sha256 character varying(64) NOT NULL,
    blob_key character varying(1024) NOT NULL,
    size bigint NOT NULL,
    "references" bigint NOT NULL,
    media json,
    media_error text,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: ingest_files; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ingest_files (
    id uuid NOT NULL,
    account_id uuid NOT NULL,
    filename character varying(255) NOT NULL,
    content_type character varying(255) NOT NULL,
    file_type character varying(16) NOT NULL,
    subdirectory character varying(255) NOT NULL,
    description text NOT NULL,
    size bigint NOT NULL,
    sha256 character varying(64) NOT NULL,
    deduplicated boolean NOT NULL,
    download_count bigint NOT NULL,
    stream_count bigint NOT NULL,
    signed_count bigint NOT NULL,
    last_accessed_at timestamp with time zone,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL
);


--
-- Name: job_logs; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.job_logs (
    id integer NOT NULL,
    job_id uuid NOT NULL,
    level character varying(8) NOT NULL,
    attempt integer NOT NULL,
    message text NOT NULL,
    details json,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: job_logs_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.job_logs_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: job_logs_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.job_logs_id_seq OWNED BY public.job_logs.id;


--
-- Name: job_outbox; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.job_outbox (
    id integer NOT NULL,
    job_id uuid NOT NULL,
    msg_id character varying(96) NOT NULL,
    payload bytea NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: job_outbox_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.job_outbox_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: job_outbox_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.job_outbox_id_seq OWNED BY public.job_outbox.id;


--
-- Name: jobs; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.jobs (
    id uuid NOT NULL,
    account_id uuid NOT NULL,
    status character varying(16) NOT NULL,
    mode character varying(16) NOT NULL,
    options json NOT NULL,
    source_url text,
    source_key character varying(1024),
    uploaded_at timestamp with time zone,
    duration_sec double precision,
    estimate_neu integer,
    reserved_neu integer NOT NULL,
    charged_neu integer,
    pricing json,
    source_filename character varying(255) NOT NULL,
    external_id character varying(255),
    metadata_json text,
    priority character varying(16) NOT NULL,
    progress double precision NOT NULL,
    attempt integer NOT NULL,
    output_expiry_seconds integer NOT NULL,
    output_key character varying(1024) NOT NULL,
    output_filename character varying(255) NOT NULL,
    output_size integer,
    output_content_type character varying(128),
    output_expires_at timestamp with time zone,
    encoder character varying(64),
    source_probe json,
    source_spec bytea,
    destination bytea,
    callback_url text,
    output_probe json,
    thumbnails json,
    effective_passes integer,
    warnings json,
    failure_reason character varying(64),
    failure_message text,
    created_at timestamp with time zone NOT NULL,
    queued_at timestamp with time zone,
    dispatched_at timestamp with time zone,
    published boolean NOT NULL,
    started_at timestamp with time zone,
    finished_at timestamp with time zone,
    files_deleted_at timestamp with time zone,
    deleted_at timestamp with time zone,
    updated_at timestamp with time zone NOT NULL
);


--
-- Name: webhook_attempts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.webhook_attempts (
    id uuid NOT NULL,
    delivery_id uuid NOT NULL,
    subscription_id uuid NOT NULL,
    attempt integer NOT NULL,
    status character varying(8) NOT NULL,
    status_code integer,
    duration_ms integer,
    response_body text,
    error text,
    next_retry_at timestamp with time zone,
    retried_at timestamp with time zone,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: webhook_deliveries; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.webhook_deliveries (
    id uuid NOT NULL,
    subscription_id uuid NOT NULL,
    event_seq integer,
    event_id character varying(96) NOT NULL,
    event character varying(32) NOT NULL,
    job_id uuid,
    body bytea NOT NULL,
    state character varying(8) NOT NULL,
    attempts integer NOT NULL,
    max_attempts integer NOT NULL,
    next_attempt_at timestamp with time zone,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: webhook_events; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.webhook_events (
    seq bigint NOT NULL,
    event_id character varying(96) NOT NULL,
    account_id uuid NOT NULL,
    job_id uuid NOT NULL,
    type character varying(16) NOT NULL,
    progress_step integer NOT NULL,
    job bytea NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: webhook_events_seq_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.webhook_events_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: webhook_events_seq_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.webhook_events_seq_seq OWNED BY public.webhook_events.seq;


--
-- Name: webhook_subscriptions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.webhook_subscriptions (
    id uuid NOT NULL,
    account_id uuid NOT NULL,
    url text NOT NULL,
    events json NOT NULL,
    dialect character varying(8) NOT NULL,
    secret_sealed text NOT NULL,
    is_active boolean NOT NULL,
    job_id uuid,
    failure_count integer NOT NULL,
    last_triggered_at timestamp with time zone,
    last_failed_at timestamp with time zone,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: credit_ledger id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.credit_ledger ALTER COLUMN id SET DEFAULT nextval('public.credit_ledger_id_seq'::regclass);


--
-- Name: job_logs id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.job_logs ALTER COLUMN id SET DEFAULT nextval('public.job_logs_id_seq'::regclass);


--
-- Name: job_outbox id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.job_outbox ALTER COLUMN id SET DEFAULT nextval('public.job_outbox_id_seq'::regclass);


--
-- Name: webhook_events seq; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_events ALTER COLUMN seq SET DEFAULT nextval('public.webhook_events_seq_seq'::regclass);


--
-- Data for Name: auth_accounts; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.auth_accounts VALUES ('dc731199-1f94-4c9d-b61b-1e1c63a20087', 'admin@localhost', 'ADMIN', NULL, true, '2026-12-03 15:43:15.90155+00', NULL);
INSERT INTO public.auth_accounts VALUES ('be900581-58f1-4aac-a7aa-e872f4b8764b', 'user@fixture.test', 'USER', '$argon2id$v=19$m=65536,t=3,p=4$WWM3eaVcsd5x+D1csJU9Vg$cjVndWs1hJ50/0zxpC1aA6YS/NXNe92BvBojDoqQfKQ', true, '2026-12-03 15:43:28.418241+00', '2026-12-03 15:43:31.059499+00');


--
-- Data for Name: auth_api_keys; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.auth_api_keys VALUES ('5c93f1f9-4fa3-4eae-87a7-1f71a1d3efe8', 'be900581-58f1-4aac-a7aa-e872f4b8764b', 'fixture-user', 'cvr_zHHASeSE', '82389567fb3e3df38ba59ae422ce69c9b99810488ed70cc1b1b3cd91441d0d25', '["credentials:manage", "jobs:cancel", "jobs:create", "jobs:read", "tokens:read", "tokens:write", "webhooks:manage"]', '2026-12-03 15:43:30.386971+00', NULL, '2026-12-03 15:43:31.081952+00', NULL);
INSERT INTO public.auth_api_keys VALUES ('9b728504-6f2e-49d0-819d-0560e391b1b3', 'dc731199-1f94-4c9d-b61b-1e1c63a20087', 'admin (first run)', 'cvr_qT7bCsQi', 'a4b3b1c2381ffb7033c98e2c32c9f7cc072c17ecb13e993d536c60fab2159480', '["credentials:manage", "jobs:cancel", "jobs:create", "jobs:read", "tokens:read", "tokens:write", "webhooks:manage"]', '2026-12-03 15:43:15.907626+00', NULL, '2026-12-03 15:43:32.211567+00', NULL);


--
-- Data for Name: auth_refresh_tokens; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.auth_refresh_tokens VALUES ('b5ca107f-121e-4cc1-b137-8e7d89ab44bb', 'be900581-58f1-4aac-a7aa-e872f4b8764b', 'e0fc7166-d4c3-4343-94cf-1369fc2129b3', '98b25ff698a6fa48d88ce4aa93582867338cad37b9328ef9b18fe36babde5a22', '2026-12-03 15:43:31.059499+00', '2027-01-02 15:43:31.059499+00', NULL, NULL);


--
-- Data for Name: credit_accounts; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.credit_accounts VALUES ('dc731199-1f94-4c9d-b61b-1e1c63a20087', 1000000, 0, NULL, 0, '2026-12-03 15:43:16.134989+00', '2026-12-03 15:43:16.135415+00');
INSERT INTO public.credit_accounts VALUES ('be900581-58f1-4aac-a7aa-e872f4b8764b', 0, 599, '2027-01-02 15:43:31.42446+00', 0, '2026-12-03 15:43:31.42446+00', '2026-12-03 15:43:32.029645+00');


--
-- Data for Name: credit_ledger; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.credit_ledger VALUES (1, 'dc731199-1f94-4c9d-b61b-1e1c63a20087', NULL, 'grant', 1000000, 1000000, 0, 0, 'first run: the admin account', '2026-12-03 15:43:16.135415+00');
INSERT INTO public.credit_ledger VALUES (2, 'be900581-58f1-4aac-a7aa-e872f4b8764b', NULL, 'trial_grant', 600, 0, 600, 0, 'trial for 30 days', '2026-12-03 15:43:31.424787+00');
INSERT INTO public.credit_ledger VALUES (3, 'be900581-58f1-4aac-a7aa-e872f4b8764b', '94e55379-7cca-4c36-a2e4-b987ee6a4f0d', 'reserve', 1, 0, 599, 1, NULL, '2026-12-03 15:43:31.425378+00');
INSERT INTO public.credit_ledger VALUES (4, 'be900581-58f1-4aac-a7aa-e872f4b8764b', '94e55379-7cca-4c36-a2e4-b987ee6a4f0d', 'deduct', 1, 0, 599, 0, NULL, '2026-12-03 15:43:31.70606+00');
INSERT INTO public.credit_ledger VALUES (5, 'be900581-58f1-4aac-a7aa-e872f4b8764b', 'c98c8f8d-5cee-4e14-82ab-816ac440f3c3', 'reserve', 5, 0, 594, 5, NULL, '2026-12-03 15:43:31.847007+00');
INSERT INTO public.credit_ledger VALUES (6, 'be900581-58f1-4aac-a7aa-e872f4b8764b', 'c98c8f8d-5cee-4e14-82ab-816ac440f3c3', 'release', 5, 0, 599, 0, NULL, '2026-12-03 15:43:32.029645+00');


--
-- Data for Name: credit_reservations; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.credit_reservations VALUES ('94e55379-7cca-4c36-a2e4-b987ee6a4f0d', 'be900581-58f1-4aac-a7aa-e872f4b8764b', 0, 0, 1, 'settled', '2026-12-03 15:43:31.706442+00');
INSERT INTO public.credit_reservations VALUES ('c98c8f8d-5cee-4e14-82ab-816ac440f3c3', 'be900581-58f1-4aac-a7aa-e872f4b8764b', 0, 0, 0, 'released', '2026-12-03 15:43:32.029594+00');


--
-- Data for Name: idempotency_keys; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.idempotency_keys VALUES ('be900581-58f1-4aac-a7aa-e872f4b8764b', 'ondemand.encode', 'succeeded', 'e0dd255bbb4bddb63367d46d46a42d87daa9b3552b7a53d6166686aa1297ea9e', 'done', '2026-12-03 15:44:31.359626+00', '\x0a2439346535353337392d376363612d346333362d613265342d623938376565366134663064122462653930303538312d353866312d346161632d613761612d6538373266346238373634621802224e0a0468323634120531303830701a036d70342204666173742a06626574746572320d7472616e73636f64652d6161633a0a6e6f2d75707363616c65401e4a05666f72636552066d656469756d58012a270a25687474703a2f2f3132372e302e302e313a33323839312f6d656469612f636c69702e6d703432060a040880a3054a066e6f726d616c5a0c08a39cc6d8061098a58dc701620c08a39cc6d8061098a58dc70192015409000000000000e03f12176d6f762c6d70342c6d34612c3367702c3367322c6d6a3218e0f80420c627280132046832363438404040490000000000003e405a07797576343230708201050a037364728801908904b20108636c69702e6d7034ba010e636c69702d31303830702e6d7034e00101ea012c09000000000000084011000000000000124019000000000000f83f200128013001380141000000000000e03f92020c08a39cc6d8061098a58dc701', '2026-12-03 15:43:31.359626+00');
INSERT INTO public.idempotency_keys VALUES ('be900581-58f1-4aac-a7aa-e872f4b8764b', 'ondemand.encode', 'failed', 'f166b3a4757f932698853672c55d1b65039ad5507094df3a4421aaca1be370ed', 'done', '2026-12-03 15:44:31.816304+00', '\x0a2463393863386638642d356365652d346531342d383261622d383136616334343066336333122462653930303538312d353866312d346161632d613761612d6538373266346238373634621802224e0a0468323634120531303830701a036d70342204666173742a06626574746572320d7472616e73636f64652d6161633a0a6e6f2d75707363616c65401e4a05666f72636552066d656469756d58012a2c0a2a687474703a2f2f3132372e302e302e313a33323839312f6d656469612f6469736775697365642e6d703432060a040880a3054a066e6f726d616c5a0c08a39cc6d8061090fea29003620c08a39cc6d8061090fea29003b2010d6469736775697365642e6d7034ba01136469736775697365642d31303830702e6d7034e00101ea012309000000000000084011000000000000124019000000000000f83f200528053001380192020c08a39cc6d8061090fea29003', '2026-12-03 15:43:31.816304+00');


--
-- Data for Name: ingest_drive_credentials; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.ingest_drive_credentials VALUES ('6a87d063-9e2f-4dae-9741-2038d0f911ea', 'be900581-58f1-4aac-a7aa-e872f4b8764b', 'robot', 'vidkiln-reader-044780@vidkiln-test.iam.gserviceaccount.com', 'vidkiln-test', 'v1.adxudedpY0HRzC_0z7j_e4M8uvdHCjvupJ-Um1BeTT2ZC_M-f-yz8YwFU8v9oZlY9t6_kA9C4moH6AMhZXwiSeCILc0t94-PwcYhT0kodU7XrDh9X8fFOAe9pGdfciTYkXXNKxKwwJQiM2I6TmwibnlcIDEa9gczbAm__kKc9s3oHsP75MBSc-R7nbfDmSLShZqckSO95ML0moQGi9PMiGsOwt1QUSy382zuGx1ZDpR1xC1V3Eo0XWlDUbS-LrW3oYDz2U19vxO6vu2w9z1CTDMHaYZkXXHcsdStHTwV52rLY1Yy2J0tiv1zXJoN9rxv2yjaEBwSYqWhgWmyO77jyTEvvB3SD8452r6l-25IvgDGYjH14GxTcj8NYsiK5oaEu4EaPteXaC982suVIsH05w0MsBgnBNM4zUaoAd-79Sr8VTt21k6ofxf805QPAM8k5ATRlQNH_nGOPBGUxcBmOATGngAstlp3LTdwuaIKHnQmc92HvYmK_palcGhB9SksT7Vf0VPBEd_eLdFBiF3FLX7oFES0REjBzlAzr39l2j_dYvvaY7hKAcf6zebKG2jPXQUCAx6iewRCvRBfsGqPiEWdtdpUOJmwzxgnJq9OQ9vIZzF_56_ItpOA1s5sCbJUkQ_wWzoYGuNYJ4-sPX0gQgfQ2R2r4mf_-Oy-i0X_QSZDlu9xyCzpr18imY2OfAwx8ZECVWxH1r1uk_ru0bC9NkhHM__93As9TpToCoV9PlNCMKoftkG-3RXllaF4bR8LPsgDn_p99czo9V0xPl7NVOSLFYFJMBT_j40YM2rOvYYh7sax_4xx1VKQ5kqH6OR4bR_FAEnOlnF3ThRsCFdIh30Y0_ZY-KwLfSDecR5MrFyxQFh2TJ8LyuIdRT9hUSFfGnXLpzcl_jTStC4AqkiOAexhV2227Dq4brHX3g8-cWjudJspB1OMvYQrCbmCIJnKS5HRMpVIpKfmA_zGQ4KYyO1rU-m630YYyustBB6_4sDTSc-yPqvg4bLk9vyQHUtfqGOXIfoHwzL4jWExXEPu6y39bzE-qDtiORRO-J_u7A9u3cnNO-Zq71ohTbR2GYyNJR-yTo1Y9BmbYtW1ubWjWOdNMJZ1jMRhC6RllOp1dxnbFN_OP1qVGfpFLUes_N01QJUZs1K-Rs_2WIhd_2g2SAt6bpk01Vfz3h8n6FHxcwHrnq-PDOetUtk2TjjCHQOEO-aCqzJUV9P58iooPUtQ4ovmIcRSdZN5OJKmVNMcuWOdQwkiKgUYcSmmguOpCRU7w1qK_KEeF1zV-LMMTS5EKI4TUhw5Qv2-HGZP92jpkj4v1YjOrDDwP-5ZT-nYGOaZkJPhtztg1gh_rSsnXhBeS4BaICF-ACqnmvFGH_tMqyBHMnxWFFt8f9FKh8MtZf7-jsjJvk9QGJnqrDH7FSYQwvHZOv-pCJA74g9eNvaWt8S5b0LiBWOe1g4jlH7eO-IhcHU-hxUhyjUQH4oWK6muKgdBCzJteEpO_TN68xoX39SpdS6U0_JycOMkNolc4XsD9Ki6pdqcX6kUopN-7RY0IkTivLCsA3l1Fb-NbA0oXtx93tgAVBD9A8HGUVXUYDFzjxicVBQf__37rMIPzVfzR1KjcrVwy-CSMI3S6MH3FkPj-zueR1ALFBmz6BjuFPmpTQZnIQLtbSsSBcCdUMXeIX9rUv9HvYR_vH2k4Yn9BfxPCnoiivknq6HLy7jvnthWPJRgnoADzdFrMayn-lVR2HcKxrKykfhMR4JLkEt0lQ-FkQkLzwJdKy0tQbUSYyZIrlzHAwcaf7UtvN1EJsqgr81ekjiPOpl6nEgRBjvVijWB4-f6P_X9BsQYlMlYznFDMUSvimTyo2e0uVoSct0lXSBHT52CjuTFSz9CCFwYyG929mER9-oesXQT4j2DCICe-onamApnuGOCyZOwjDDXC_ExvaknprG06GsPVtEYJ7iicq6NZIOG6GOJR1p5H-WoCnvftdvXiWnz-cl0wBG133i6wDI61kSOZxsU-tAsrJtQy04ANbqNVuwBC6CkVEnEgNw2h-oDjxD7_ISTCPf4V_UveLvmEEM3lACTaJAlDVIraalTWLUSQ6mdO0LU4T1_0ufkek72aBO81sBCwQRoNlf7WWiriekMfjGNe3ysHaUceUIwH-xuJ-Z4kPT7ukc5imJj591L5ZDF5RDh-yt7BA5XjdNYRGc5ku67z7Tlhhqua5XNk1NEYMokVl6sO9opxgmCGwbPRAztTASOKGvrpNirwiqtAwwSfj8qMttezBNCZKl5TS_zcutCusJCsysHsStxEeBAGO3PbcC4ERuPSzR9WT25P6JorJYRc2asEUPHUxcyKXjrgjPvzOCkM9mlB63AuzqumNMgb4W4Gc-jumGxV-BL0qXZPyhlEm4lsJat3gVOT9SjZ1csr1O3QlpchK7mk4hT6DO3cAtDObXLe6jcLuiz8bnIiPNIaiYoXujdxh4CBveRJuqi8kbVzjEP_gg6q1NbMHZNgeCS4G9Vhu-VXafZWjNIL0BowZCTYRTksG0Qc8x78cd8Saf8zuwm0hym0Hh0vtjYBvtfbX_8O7JEu8SnK0Vp5E0bBZniV3LLZ0G-jikP2P47vAdC3R8kLlT0nk4plyf5JD_6q6Mqua4GLmG9fhwZpSV0jpy8pMIp2dE', '2026-12-03 15:43:31.334134+00');


--
-- Data for Name: ingest_file_contents; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.ingest_file_contents VALUES ('b0d7a273cdfda315131427e9303cd503831680a59296712186a160240647948f', 'files/sha256/b0d7a273cdfda315131427e9303cd503831680a59296712186a160240647948f', 260, 1, 'null', NULL, '2026-12-03 15:43:31.150002+00');


--
-- Data for Name: ingest_files; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.ingest_files VALUES ('5f007f08-7d61-4c44-a853-20ca2e064fe3', 'be900581-58f1-4aac-a7aa-e872f4b8764b', 'notes.txt', 'text/plain', 'document', '', '', 260, 'b0d7a273cdfda315131427e9303cd503831680a59296712186a160240647948f', false, 0, 0, 0, NULL, '2026-12-03 15:43:31.150002+00', '2026-12-03 15:43:31.150002+00');


--
-- Data for Name: job_logs; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.job_logs VALUES (1, '94e55379-7cca-4c36-a2e4-b987ee6a4f0d', 'INFO', 0, 'Job queued', '{"filename": "clip.mp4", "size": 5062, "duration": 0.5}', '2026-12-03 15:43:31.42562+00');
INSERT INTO public.job_logs VALUES (2, '94e55379-7cca-4c36-a2e4-b987ee6a4f0d', 'INFO', 0, 'Encoding started', 'null', '2026-12-03 15:43:31.531288+00');
INSERT INTO public.job_logs VALUES (3, '94e55379-7cca-4c36-a2e4-b987ee6a4f0d', 'INFO', 1, 'Source downloaded', '{"bytes": 5062, "worker": "vm-8458f1"}', '2026-12-03 15:43:31.527938+00');
INSERT INTO public.job_logs VALUES (4, '94e55379-7cca-4c36-a2e4-b987ee6a4f0d', 'INFO', 1, 'Transcoding to h264 1080p mp4', '{"worker": "vm-8458f1", "attempt": 1, "preset": "fast", "passes": 1}', '2026-12-03 15:43:31.528072+00');
INSERT INTO public.job_logs VALUES (5, '94e55379-7cca-4c36-a2e4-b987ee6a4f0d', 'INFO', 1, 'Output stored', '{"bytes": 2254, "encoder": "libx264", "thumbnails": 3}', '2026-12-03 15:43:31.66155+00');
INSERT INTO public.job_logs VALUES (6, '94e55379-7cca-4c36-a2e4-b987ee6a4f0d', 'INFO', 0, 'Encoding finished', 'null', '2026-12-03 15:43:31.706518+00');
INSERT INTO public.job_logs VALUES (7, 'c98c8f8d-5cee-4e14-82ab-816ac440f3c3', 'INFO', 0, 'Job queued', '{"filename": "disguised.mp4", "size": 600, "duration": null}', '2026-12-03 15:43:31.847395+00');
INSERT INTO public.job_logs VALUES (8, 'c98c8f8d-5cee-4e14-82ab-816ac440f3c3', 'WARNING', 0, 'The source server does not answer ranged requests; probed when encoding.', 'null', '2026-12-03 15:43:31.847395+00');
INSERT INTO public.job_logs VALUES (9, 'c98c8f8d-5cee-4e14-82ab-816ac440f3c3', 'INFO', 0, 'Encoding started', 'null', '2026-12-03 15:43:31.967999+00');
INSERT INTO public.job_logs VALUES (10, 'c98c8f8d-5cee-4e14-82ab-816ac440f3c3', 'INFO', 1, 'Source downloaded', '{"bytes": 600, "worker": "vm-8458f1"}', '2026-12-03 15:43:31.93481+00');
INSERT INTO public.job_logs VALUES (11, 'c98c8f8d-5cee-4e14-82ab-816ac440f3c3', 'INFO', 1, 'Transcoding to h264 1080p mp4', '{"worker": "vm-8458f1", "attempt": 1, "preset": "fast", "passes": 1}', '2026-12-03 15:43:31.93498+00');
INSERT INTO public.job_logs VALUES (12, 'c98c8f8d-5cee-4e14-82ab-816ac440f3c3', 'INFO', 0, 'Encoding failed: The source is not a media file FFmpeg can read (Invalid data found when processing input).', 'null', '2026-12-03 15:43:32.029937+00');


--
-- Data for Name: job_outbox; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: jobs; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.jobs VALUES ('94e55379-7cca-4c36-a2e4-b987ee6a4f0d', 'be900581-58f1-4aac-a7aa-e872f4b8764b', 'succeeded', 'on_demand', '{"codec": "h264", "resolution": "1080p", "container": "mp4", "preset": "fast", "quality": "better", "audio_policy": "transcode-aac", "scale_policy": "no-upscale", "frame_rate_policy": "force", "bitrate_tier": "medium", "fps": 30, "passes": 1}', 'http://127.0.0.1:32891/media/clip.mp4', NULL, NULL, 0.5, 1, 0, 1, '{"basePerMinute": 3.0, "onDemandPerMinute": 4.5, "multiplier": 1.5, "totalNeu": 1, "reserved": 1, "requestedPasses": 1, "effectivePasses": 1}', 'clip.mp4', NULL, NULL, 'normal', 100, 1, 86400, 'outputs/94e55379-7cca-4c36-a2e4-b987ee6a4f0d/output.mp4', 'clip-1080p.mp4', 2254, 'video/mp4', '2026-12-04 15:43:31.666241+00', 'libx264', '{"duration_sec": 0.5, "container": "mov,mp4,m4a,3gp,3g2,mj2", "bit_rate": "80992", "size_bytes": "5062", "has_video": true, "video_codec": "h264", "width": 64, "height": 64, "fps": 30.0, "pix_fmt": "yuv420p", "color": {"kind": "sdr"}, "video_bit_rate": 66704}', NULL, NULL, NULL, '{"duration_sec": 0.5, "container": "mov,mp4,m4a,3gp,3g2,mj2", "bit_rate": "36064", "size_bytes": "2254", "has_video": true, "video_codec": "h264", "width": 64, "height": 64, "fps": 30.0, "pix_fmt": "yuv420p", "color": {"kind": "sdr"}, "video_bit_rate": 19632}', '[{"key": "outputs/94e55379-7cca-4c36-a2e4-b987ee6a4f0d/poster-small.jpg", "content_type": "image/jpeg", "filename": "poster-small.jpg"}, {"key": "outputs/94e55379-7cca-4c36-a2e4-b987ee6a4f0d/poster-medium.jpg", "content_type": "image/jpeg", "filename": "poster-medium.jpg"}, {"key": "outputs/94e55379-7cca-4c36-a2e4-b987ee6a4f0d/poster-large.jpg", "content_type": "image/jpeg", "filename": "poster-large.jpg"}]', 1, '[]', NULL, NULL, '2026-12-03 15:43:31.417551+00', '2026-12-03 15:43:31.417551+00', '2026-12-03 15:43:31.464925+00', true, '2026-12-03 15:43:31.503668+00', '2026-12-03 15:43:31.666241+00', NULL, NULL, '2026-12-03 15:43:31.711773+00');
INSERT INTO public.jobs VALUES ('c98c8f8d-5cee-4e14-82ab-816ac440f3c3', 'be900581-58f1-4aac-a7aa-e872f4b8764b', 'failed', 'on_demand', '{"codec": "h264", "resolution": "1080p", "container": "mp4", "preset": "fast", "quality": "better", "audio_policy": "transcode-aac", "scale_policy": "no-upscale", "frame_rate_policy": "force", "bitrate_tier": "medium", "fps": 30, "passes": 1}', 'http://127.0.0.1:32891/media/disguised.mp4', NULL, NULL, NULL, 5, 0, NULL, '{"basePerMinute": 3.0, "onDemandPerMinute": 4.5, "multiplier": 1.5, "totalNeu": 5, "reserved": 5, "requestedPasses": 1, "effectivePasses": 1}', 'disguised.mp4', NULL, NULL, 'normal', 0, 1, 86400, 'outputs/c98c8f8d-5cee-4e14-82ab-816ac440f3c3/output.mp4', 'disguised-1080p.mp4', NULL, NULL, NULL, NULL, 'null', NULL, NULL, NULL, 'null', 'null', NULL, 'null', 'PROBE_FAILED', 'The source is not a media file FFmpeg can read (Invalid data found when processing input).', '2026-12-03 15:43:31.839434+00', '2026-12-03 15:43:31.839434+00', '2026-12-03 15:43:31.88711+00', true, '2026-12-03 15:43:31.922643+00', '2026-12-03 15:43:31.985916+00', NULL, NULL, '2026-12-03 15:43:32.031505+00');


--
-- Data for Name: webhook_attempts; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.webhook_attempts VALUES ('932e5e8b-c5f0-438c-960d-8f3e77c48fd0', '4610a3b4-98bd-4ee8-b2cb-488fcf3b7904', '118b702f-445e-489a-aa75-93f9e4e6a9eb', 1, 'success', 200, 18, 'ok', NULL, NULL, NULL, '2026-12-03 15:43:32.009445+00');
INSERT INTO public.webhook_attempts VALUES ('ab69b6b3-a8e8-41a0-8235-7879a31d7e23', 'd73ae557-81ab-47cb-b27f-45055a835ec3', '118b702f-445e-489a-aa75-93f9e4e6a9eb', 1, 'success', 200, 1, 'ok', NULL, NULL, NULL, '2026-12-03 15:43:32.116666+00');


--
-- Data for Name: webhook_deliveries; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.webhook_deliveries VALUES ('4610a3b4-98bd-4ee8-b2cb-488fcf3b7904', '118b702f-445e-489a-aa75-93f9e4e6a9eb', 4, '94e55379-7cca-4c36-a2e4-b987ee6a4f0d:succeeded', 'job.completed', '94e55379-7cca-4c36-a2e4-b987ee6a4f0d', '\x7b226576656e74223a226a6f622e636f6d706c65746564222c2274696d657374616d70223a22323032362d31322d30335431353a34333a33312e3731315a222c2264617461223a7b226a6f624964223a2239346535353337392d376363612d346333362d613265342d623938376565366134663064222c22757365724964223a2262653930303538312d353866312d346161632d613761612d653837326634623837363462222c22737461747573223a2273756363657373222c2270726f6772657373223a3130302e302c22656e636f646572223a226c696278323634222c226475726174696f6e536563223a302e352c2266696e616c4e6575223a312c2265787465726e616c4964223a6e756c6c2c226d65746164617461223a6e756c6c7d7d', 'success', 1, 9, NULL, '2026-12-03 15:43:31.972674+00');
INSERT INTO public.webhook_deliveries VALUES ('d73ae557-81ab-47cb-b27f-45055a835ec3', '118b702f-445e-489a-aa75-93f9e4e6a9eb', 8, 'c98c8f8d-5cee-4e14-82ab-816ac440f3c3:failed', 'job.failed', 'c98c8f8d-5cee-4e14-82ab-816ac440f3c3', '\x7b226576656e74223a226a6f622e6661696c6564222c2274696d657374616d70223a22323032362d31322d30335431353a34333a33322e3033315a222c2264617461223a7b226a6f624964223a2263393863386638642d356365652d346531342d383261622d383136616334343066336333222c22757365724964223a2262653930303538312d353866312d346161632d613761612d653837326634623837363462222c22737461747573223a226661696c6564222c2270726f6772657373223a302e302c22656e636f646572223a6e756c6c2c226475726174696f6e536563223a6e756c6c2c2266696e616c4e6575223a6e756c6c2c2265787465726e616c4964223a6e756c6c2c226d65746164617461223a6e756c6c2c226572726f72223a2254686520736f75726365206973206e6f742061206d656469612066696c652046466d7065672063616e20726561642028496e76616c6964206461746120666f756e64207768656e2070726f63657373696e6720696e707574292e222c226661696c757265436f6465223a2270726f62655f6661696c6564227d7d', 'success', 1, 9, NULL, '2026-12-03 15:43:32.091195+00');


--
-- Data for Name: webhook_events; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.webhook_events VALUES (1, '94e55379-7cca-4c36-a2e4-b987ee6a4f0d:created', 'be900581-58f1-4aac-a7aa-e872f4b8764b', '94e55379-7cca-4c36-a2e4-b987ee6a4f0d', 'created', 0, '\x0a2439346535353337392d376363612d346333362d613265342d623938376565366134663064122462653930303538312d353866312d346161632d613761612d6538373266346238373634621801224e0a0468323634120531303830701a036d70342204666173742a06626574746572320d7472616e73636f64652d6161633a0a6e6f2d75707363616c65401e4a05666f72636552066d656469756d58012a270a25687474703a2f2f3132372e302e302e313a33323839312f6d656469612f636c69702e6d703432060a040880a3054a066e6f726d616c5a0c08a39cc6d8061098a58dc701620c08a39cc6d8061098a58dc70192015409000000000000e03f12176d6f762c6d70342c6d34612c3367702c3367322c6d6a3218e0f80420c627280132046832363438404040490000000000003e405a07797576343230708201050a037364728801908904b20108636c69702e6d7034ba010e636c69702d31303830702e6d7034e00101ea012c09000000000000084011000000000000124019000000000000f83f200128013001380141000000000000e03f92020c08a39cc6d8061098a58dc701', '2026-12-03 15:43:31.417551+00');
INSERT INTO public.webhook_events VALUES (2, '94e55379-7cca-4c36-a2e4-b987ee6a4f0d:queued', 'be900581-58f1-4aac-a7aa-e872f4b8764b', '94e55379-7cca-4c36-a2e4-b987ee6a4f0d', 'queued', 0, '\x0a2439346535353337392d376363612d346333362d613265342d623938376565366134663064122462653930303538312d353866312d346161632d613761612d6538373266346238373634621802224e0a0468323634120531303830701a036d70342204666173742a06626574746572320d7472616e73636f64652d6161633a0a6e6f2d75707363616c65401e4a05666f72636552066d656469756d58012a270a25687474703a2f2f3132372e302e302e313a33323839312f6d656469612f636c69702e6d703432060a040880a3054a066e6f726d616c5a0c08a39cc6d8061098a58dc701620c08a39cc6d8061098a58dc70192015409000000000000e03f12176d6f762c6d70342c6d34612c3367702c3367322c6d6a3218e0f80420c627280132046832363438404040490000000000003e405a07797576343230708201050a037364728801908904b20108636c69702e6d7034ba010e636c69702d31303830702e6d7034e00101ea012c09000000000000084011000000000000124019000000000000f83f200128013001380141000000000000e03f92020c08a39cc6d8061098a58dc701', '2026-12-03 15:43:31.417551+00');
INSERT INTO public.webhook_events VALUES (3, '94e55379-7cca-4c36-a2e4-b987ee6a4f0d:running', 'be900581-58f1-4aac-a7aa-e872f4b8764b', '94e55379-7cca-4c36-a2e4-b987ee6a4f0d', 'running', 0, '\x0a2439346535353337392d376363612d346333362d613265342d623938376565366134663064122462653930303538312d353866312d346161632d613761612d6538373266346238373634621803224e0a0468323634120531303830701a036d70342204666173742a06626574746572320d7472616e73636f64652d6161633a0a6e6f2d75707363616c65401e4a05666f72636552066d656469756d58012a270a25687474703a2f2f3132372e302e302e313a33323839312f6d656469612f636c69702e6d703432060a040880a3054a066e6f726d616c5a0c08a39cc6d8061098a58dc701620c08a39cc6d8061098a58dc7016a0c08a39cc6d80610a0ba95f00192015409000000000000e03f12176d6f762c6d70342c6d34612c3367702c3367322c6d6a3218e0f80420c627280132046832363438404040490000000000003e405a07797576343230708201050a037364728801908904b20108636c69702e6d7034ba010e636c69702d31303830702e6d7034c00101e00101ea012c09000000000000084011000000000000124019000000000000f83f200128013001380141000000000000e03f92020c08a39cc6d80610e0aedafd01', '2026-12-03 15:43:31.53206+00');
INSERT INTO public.webhook_events VALUES (4, '94e55379-7cca-4c36-a2e4-b987ee6a4f0d:succeeded', 'be900581-58f1-4aac-a7aa-e872f4b8764b', '94e55379-7cca-4c36-a2e4-b987ee6a4f0d', 'succeeded', 0, '\x0a2439346535353337392d376363612d346333362d613265342d623938376565366134663064122462653930303538312d353866312d346161632d613761612d6538373266346238373634621804224e0a0468323634120531303830701a036d70342204666173742a06626574746572320d7472616e73636f64652d6161633a0a6e6f2d75707363616c65401e4a05666f72636552066d656469756d58012a270a25687474703a2f2f3132372e302e302e313a33323839312f6d656469612f636c69702e6d703432060a040880a3054a066e6f726d616c5100000000000059405a0c08a39cc6d8061098a58dc701620c08a39cc6d8061098a58dc7016a0c08a39cc6d80610a0ba95f001720c08a39cc6d80610e88fd8bd028a01570a376f7574707574732f39346535353337392d376363612d346333362d613265342d6239383765653661346630642f6f75747075742e6d703410ce111a09766964656f2f6d7034220e636c69702d31303830702e6d703492015409000000000000e03f12176d6f762c6d70342c6d34612c3367702c3367322c6d6a3218e0f80420c627280132046832363438404040490000000000003e405a07797576343230708201050a0373647288019089049a015409000000000000e03f12176d6f762c6d70342c6d34612c3367702c3367322c6d6a3218e0990220ce11280132046832363438404040490000000000003e405a07797576343230708201050a037364728801b09901a201076c696278323634aa010c08a3bfcbd80610e88fd8bd02b20108636c69702e6d7034ba010e636c69702d31303830702e6d7034c00101ca015d0a3d6f7574707574732f39346535353337392d376363612d346333362d613265342d6239383765653661346630642f706f737465722d736d616c6c2e6a70671a0a696d6167652f6a7065672210706f737465722d736d616c6c2e6a7067ca015f0a3e6f7574707574732f39346535353337392d376363612d346333362d613265342d6239383765653661346630642f706f737465722d6d656469756d2e6a70671a0a696d6167652f6a7065672211706f737465722d6d656469756d2e6a7067ca015d0a3d6f7574707574732f39346535353337392d376363612d346333362d613265342d6239383765653661346630642f706f737465722d6c617267652e6a70671a0a696d6167652f6a7065672210706f737465722d6c617267652e6a7067d00101e00101ea012a09000000000000084011000000000000124019000000000000f83f20013001380141000000000000e03ff0010192020c08a39cc6d80610c896b3d302', '2026-12-03 15:43:31.711773+00');
INSERT INTO public.webhook_events VALUES (5, 'c98c8f8d-5cee-4e14-82ab-816ac440f3c3:created', 'be900581-58f1-4aac-a7aa-e872f4b8764b', 'c98c8f8d-5cee-4e14-82ab-816ac440f3c3', 'created', 0, '\x0a2463393863386638642d356365652d346531342d383261622d383136616334343066336333122462653930303538312d353866312d346161632d613761612d6538373266346238373634621801224e0a0468323634120531303830701a036d70342204666173742a06626574746572320d7472616e73636f64652d6161633a0a6e6f2d75707363616c65401e4a05666f72636552066d656469756d58012a2c0a2a687474703a2f2f3132372e302e302e313a33323839312f6d656469612f6469736775697365642e6d703432060a040880a3054a066e6f726d616c5a0c08a39cc6d8061090fea29003620c08a39cc6d8061090fea29003b2010d6469736775697365642e6d7034ba01136469736775697365642d31303830702e6d7034e00101ea012309000000000000084011000000000000124019000000000000f83f200528053001380192020c08a39cc6d8061090fea29003', '2026-12-03 15:43:31.839434+00');
INSERT INTO public.webhook_events VALUES (6, 'c98c8f8d-5cee-4e14-82ab-816ac440f3c3:queued', 'be900581-58f1-4aac-a7aa-e872f4b8764b', 'c98c8f8d-5cee-4e14-82ab-816ac440f3c3', 'queued', 0, '\x0a2463393863386638642d356365652d346531342d383261622d383136616334343066336333122462653930303538312d353866312d346161632d613761612d6538373266346238373634621802224e0a0468323634120531303830701a036d70342204666173742a06626574746572320d7472616e73636f64652d6161633a0a6e6f2d75707363616c65401e4a05666f72636552066d656469756d58012a2c0a2a687474703a2f2f3132372e302e302e313a33323839312f6d656469612f6469736775697365642e6d703432060a040880a3054a066e6f726d616c5a0c08a39cc6d8061090fea29003620c08a39cc6d8061090fea29003b2010d6469736775697365642e6d7034ba01136469736775697365642d31303830702e6d7034e00101ea012309000000000000084011000000000000124019000000000000f83f200528053001380192020c08a39cc6d8061090fea29003', '2026-12-03 15:43:31.839434+00');
INSERT INTO public.webhook_events VALUES (7, 'c98c8f8d-5cee-4e14-82ab-816ac440f3c3:running', 'be900581-58f1-4aac-a7aa-e872f4b8764b', 'c98c8f8d-5cee-4e14-82ab-816ac440f3c3', 'running', 0, '\x0a2463393863386638642d356365652d346531342d383261622d383136616334343066336333122462653930303538312d353866312d346161632d613761612d6538373266346238373634621803224e0a0468323634120531303830701a036d70342204666173742a06626574746572320d7472616e73636f64652d6161633a0a6e6f2d75707363616c65401e4a05666f72636552066d656469756d58012a2c0a2a687474703a2f2f3132372e302e302e313a33323839312f6d656469612f6469736775697365642e6d703432060a040880a3054a066e6f726d616c5a0c08a39cc6d8061090fea29003620c08a39cc6d8061090fea290036a0c08a39cc6d80610b8d4f9b703b2010d6469736775697365642e6d7034ba01136469736775697365642d31303830702e6d7034c00101e00101ea012309000000000000084011000000000000124019000000000000f83f200528053001380192020c08a39cc6d80610b0e7f7cd03', '2026-12-03 15:43:31.96875+00');
INSERT INTO public.webhook_events VALUES (8, 'c98c8f8d-5cee-4e14-82ab-816ac440f3c3:failed', 'be900581-58f1-4aac-a7aa-e872f4b8764b', 'c98c8f8d-5cee-4e14-82ab-816ac440f3c3', 'failed', 0, '\x0a2463393863386638642d356365652d346531342d383261622d383136616334343066336333122462653930303538312d353866312d346161632d613761612d6538373266346238373634621805224e0a0468323634120531303830701a036d70342204666173742a06626574746572320d7472616e73636f64652d6161633a0a6e6f2d75707363616c65401e4a05666f72636552066d656469756d58012a2c0a2a687474703a2f2f3132372e302e302e313a33323839312f6d656469612f6469736775697365642e6d703432060a040880a3054a066e6f726d616c5a0c08a39cc6d8061090fea29003620c08a39cc6d8061090fea290036a0c08a39cc6d80610b8d4f9b703720c08a39cc6d80610e0c48fd603782882015a54686520736f75726365206973206e6f742061206d656469612066696c652046466d7065672063616e20726561642028496e76616c6964206461746120666f756e64207768656e2070726f63657373696e6720696e707574292eb2010d6469736775697365642e6d7034ba01136469736775697365642d31303830702e6d7034c00101e00101ea012109000000000000084011000000000000124019000000000000f83f20053001380192020b08a49cc6d80610e8f4820f', '2026-12-03 15:43:32.031505+00');


--
-- Data for Name: webhook_subscriptions; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.webhook_subscriptions VALUES ('118b702f-445e-489a-aa75-93f9e4e6a9eb', 'be900581-58f1-4aac-a7aa-e872f4b8764b', 'http://127.0.0.1:32891/hook', '["job.completed", "job.failed"]', 'encode', 'v1.4aahAPIERymStMo7lYGj8MCsKHV29h8aSd62gxdcyEtfC51x0wtIj1gDWN-9ySyRv9mycB_Xu-bTgioMTu3NIzjlbldDcR5zwTpkwHSO', true, NULL, 0, '2026-12-03 15:43:32.116666+00', NULL, '2026-12-03 15:43:31.122046+00');


--
-- Name: credit_ledger_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.credit_ledger_id_seq', 6, true);


--
-- Name: job_logs_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.job_logs_id_seq', 12, true);


--
-- Name: job_outbox_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.job_outbox_id_seq', 8, true);


--
-- Name: webhook_events_seq_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.webhook_events_seq_seq', 8, true);


--
-- Name: auth_accounts auth_accounts_email_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.auth_accounts
    ADD CONSTRAINT auth_accounts_email_key UNIQUE (email);


--
-- Name: auth_accounts auth_accounts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.auth_accounts
    ADD CONSTRAINT auth_accounts_pkey PRIMARY KEY (id);


--
-- Name: auth_api_keys auth_api_keys_key_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.auth_api_keys
    ADD CONSTRAINT auth_api_keys_key_hash_key UNIQUE (key_hash);


--
-- Name: auth_api_keys auth_api_keys_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.auth_api_keys
    ADD CONSTRAINT auth_api_keys_pkey PRIMARY KEY (id);


--
-- Name: auth_refresh_tokens auth_refresh_tokens_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.auth_refresh_tokens
    ADD CONSTRAINT auth_refresh_tokens_pkey PRIMARY KEY (id);


--
-- Name: auth_refresh_tokens auth_refresh_tokens_token_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.auth_refresh_tokens
    ADD CONSTRAINT auth_refresh_tokens_token_hash_key UNIQUE (token_hash);


--
-- Name: credit_accounts credit_accounts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.credit_accounts
    ADD CONSTRAINT credit_accounts_pkey PRIMARY KEY (account_id);


--
-- Name: credit_ledger credit_ledger_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.credit_ledger
    ADD CONSTRAINT credit_ledger_pkey PRIMARY KEY (id);


--
-- Name: credit_reservations credit_reservations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.credit_reservations
    ADD CONSTRAINT credit_reservations_pkey PRIMARY KEY (job_id);


--
-- Name: idempotency_keys idempotency_keys_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.idempotency_keys
    ADD CONSTRAINT idempotency_keys_pkey PRIMARY KEY (account_id, route, key);


--
-- Name: ingest_drive_credentials ingest_drive_credentials_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ingest_drive_credentials
    ADD CONSTRAINT ingest_drive_credentials_pkey PRIMARY KEY (id);


--
-- Name: ingest_file_contents ingest_file_contents_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ingest_file_contents
    ADD CONSTRAINT ingest_file_contents_pkey PRIMARY KEY (sha256);


--
-- Name: ingest_files ingest_files_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ingest_files
    ADD CONSTRAINT ingest_files_pkey PRIMARY KEY (id);


--
-- Name: job_logs job_logs_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.job_logs
    ADD CONSTRAINT job_logs_pkey PRIMARY KEY (id);


--
-- Name: job_outbox job_outbox_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.job_outbox
    ADD CONSTRAINT job_outbox_pkey PRIMARY KEY (id);


--
-- Name: jobs jobs_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.jobs
    ADD CONSTRAINT jobs_pkey PRIMARY KEY (id);


--
-- Name: webhook_deliveries uq_webhook_delivery_event; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT uq_webhook_delivery_event UNIQUE (subscription_id, event_seq);


--
-- Name: webhook_attempts webhook_attempts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_attempts
    ADD CONSTRAINT webhook_attempts_pkey PRIMARY KEY (id);


--
-- Name: webhook_deliveries webhook_deliveries_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (id);


--
-- Name: webhook_events webhook_events_event_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_events
    ADD CONSTRAINT webhook_events_event_id_key UNIQUE (event_id);


--
-- Name: webhook_events webhook_events_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_events
    ADD CONSTRAINT webhook_events_pkey PRIMARY KEY (seq);


--
-- Name: webhook_subscriptions webhook_subscriptions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_subscriptions
    ADD CONSTRAINT webhook_subscriptions_pkey PRIMARY KEY (id);


--
-- Name: ix_auth_api_keys_account_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_auth_api_keys_account_id ON public.auth_api_keys USING btree (account_id);


--
-- Name: ix_auth_refresh_tokens_account_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_auth_refresh_tokens_account_id ON public.auth_refresh_tokens USING btree (account_id);


--
-- Name: ix_auth_refresh_tokens_family_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_auth_refresh_tokens_family_id ON public.auth_refresh_tokens USING btree (family_id);


--
-- Name: ix_credit_ledger_account_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_credit_ledger_account_id ON public.credit_ledger USING btree (account_id);


--
-- Name: ix_credit_reservations_account_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_credit_reservations_account_id ON public.credit_reservations USING btree (account_id);


--
-- Name: ix_ingest_drive_credentials_account; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_ingest_drive_credentials_account ON public.ingest_drive_credentials USING btree (account_id, created_at);


--
-- Name: ix_ingest_files_account_listed; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_ingest_files_account_listed ON public.ingest_files USING btree (account_id, created_at, id);


--
-- Name: ix_ingest_files_account_sha; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_ingest_files_account_sha ON public.ingest_files USING btree (account_id, sha256);


--
-- Name: ix_ingest_files_account_type; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_ingest_files_account_type ON public.ingest_files USING btree (account_id, file_type, created_at);


--
-- Name: ix_ingest_files_sha256; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_ingest_files_sha256 ON public.ingest_files USING btree (sha256);


--
-- Name: ix_job_logs_job_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_job_logs_job_id ON public.job_logs USING btree (job_id);


--
-- Name: ix_job_outbox_job_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_job_outbox_job_id ON public.job_outbox USING btree (job_id);


--
-- Name: ix_jobs_account_listed; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_jobs_account_listed ON public.jobs USING btree (account_id, deleted_at, created_at, id);


--
-- Name: ix_jobs_account_status; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_jobs_account_status ON public.jobs USING btree (account_id, status, dispatched_at);


--
-- Name: ix_jobs_status_dispatched; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_jobs_status_dispatched ON public.jobs USING btree (status, dispatched_at);


--
-- Name: ix_webhook_attempts_delivery_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_webhook_attempts_delivery_id ON public.webhook_attempts USING btree (delivery_id);


--
-- Name: ix_webhook_attempts_subscription; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_webhook_attempts_subscription ON public.webhook_attempts USING btree (subscription_id, created_at);


--
-- Name: ix_webhook_deliveries_due; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_webhook_deliveries_due ON public.webhook_deliveries USING btree (state, next_attempt_at);


--
-- Name: ix_webhook_deliveries_order; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_webhook_deliveries_order ON public.webhook_deliveries USING btree (subscription_id, job_id, state, event_seq);


--
-- Name: ix_webhook_events_account_seq; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_webhook_events_account_seq ON public.webhook_events USING btree (account_id, seq);


--
-- Name: ix_webhook_subscriptions_account_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_webhook_subscriptions_account_id ON public.webhook_subscriptions USING btree (account_id);


--
-- Name: auth_api_keys auth_api_keys_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.auth_api_keys
    ADD CONSTRAINT auth_api_keys_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.auth_accounts(id);


--
-- Name: auth_refresh_tokens auth_refresh_tokens_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.auth_refresh_tokens
    ADD CONSTRAINT auth_refresh_tokens_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.auth_accounts(id);


--
-- Name: job_logs job_logs_job_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.job_logs
    ADD CONSTRAINT job_logs_job_id_fkey FOREIGN KEY (job_id) REFERENCES public.jobs(id);


--
-- Name: webhook_attempts webhook_attempts_delivery_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_attempts
    ADD CONSTRAINT webhook_attempts_delivery_id_fkey FOREIGN KEY (delivery_id) REFERENCES public.webhook_deliveries(id) ON DELETE CASCADE;


--
-- Name: webhook_attempts webhook_attempts_subscription_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_attempts
    ADD CONSTRAINT webhook_attempts_subscription_id_fkey FOREIGN KEY (subscription_id) REFERENCES public.webhook_subscriptions(id) ON DELETE CASCADE;


--
-- Name: webhook_deliveries webhook_deliveries_subscription_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_subscription_id_fkey FOREIGN KEY (subscription_id) REFERENCES public.webhook_subscriptions(id) ON DELETE CASCADE;


--
-- PostgreSQL database dump complete
--


