-- Macros of the Kustomer → Salesforce route (prefix sf_).

-- A Salesforce API name (a Queue's DeveloperName, a custom object or
-- field): letters, digits and single underscores, starting with a
-- letter, not ending with an underscore.
CREATE OR REPLACE MACRO sf_api_fold(s) AS
    regexp_replace(regexp_replace(coalesce(s, ''), '[^A-Za-z0-9]+', '_', 'g'), '^_+|_+$', '', 'g');

CREATE OR REPLACE MACRO sf_api_name(s, max_len) AS
    rtrim(left(CASE WHEN sf_api_fold(s) = '' OR NOT regexp_matches(sf_api_fold(s), '^[A-Za-z]')
                    THEN 'K_' || sf_api_fold(s) ELSE sf_api_fold(s) END, max_len), '_');
