-- out_salesforce_contacts: the customers that become Contacts.

CREATE OR REPLACE TABLE out_salesforce_contacts AS
SELECT * EXCLUDE (sobject) FROM int_customer_people WHERE sobject = 'contact';
