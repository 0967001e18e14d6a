-- Kustomer tags on loaded conversations with no Enchant label in
-- seeds/label_map.csv. Enchant's API cannot create labels: create these in
-- Enchant (Settings → Labels), put their ids in the seed, or map a tag to an
-- empty id to leave it out deliberately (its name stays in the header note).
-- `unmapped_tags = note` in transform_settings.csv lets them through.
SELECT tag AS kustomer_tag, count(*) AS tickets, 'create the label in Enchant and add "' || tag || ',<label id>" to seeds/label_map.csv' AS fix
FROM out_enchant_tickets, unnest(unmapped_tags) AS t(tag)
WHERE coalesce(setting('unmapped_tags'), 'error') = 'error'
GROUP BY ALL ORDER BY 2 DESC, 1;
