-- Schema version 3: where a destination serves a file ferry uploaded. A
-- body that shows an inline image must link the destination's copy, and
-- that URL is only known from the upload's answer (Zendesk:
-- upload.attachment.content_url), so the loader records it beside the id
-- map, keyed like it; a re-upload (a token past its life) replaces it.
CREATE TABLE IF NOT EXISTS ferry_hosted_files (
    dest        VARCHAR NOT NULL,
    dest_object VARCHAR NOT NULL,
    source_id   VARCHAR NOT NULL,
    dest_id     VARCHAR NOT NULL,
    url         VARCHAR NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (dest, dest_object, source_id)
);
COMMENT ON TABLE ferry_hosted_files IS 'ferry load: the URL the destination serves each uploaded file from (inline images link it), by the upload''s id';
