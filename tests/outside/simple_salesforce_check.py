"""Runs simple-salesforce (PyPI, written by others for the real API)
unmodified against `ferry sim salesforce`: OAuth client-credentials login
against a My Domain host, describe, sObject REST create/upsert/get, SOQL
with nextRecordsUrl paging, Bulk API 2.0 insert and upsert with their CSV
results, /limits. Only where requests go changes: https to the My Domain
and to the instance go to the simulator over plain http.

Usage: simple_salesforce_check.py SIM_URL CLIENT_ID CLIENT_SECRET [readback]
Prints one JSON object with what the client saw."""

import csv
import io
import json
import sys

import requests
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce

sim = sys.argv[1].rstrip("/")
client_id, client_secret = sys.argv[2], sys.argv[3]
mode = sys.argv[4] if len(sys.argv) > 4 else "exercise"
MY_DOMAIN = "https://ferrysim.my.salesforce.com"
INSTANCE = "https://" + sim.split("://", 1)[1]


class ToSimulator(HTTPAdapter):
    def send(self, request, **kwargs):
        asked = request.url
        for real in (MY_DOMAIN, INSTANCE):
            if asked.startswith(real):
                request.url = sim + asked[len(real):]
        response = super().send(request, **kwargs)
        response.url = asked
        return response


session = requests.Session()
session.mount("https://", ToSimulator())
sf = Salesforce(consumer_key=client_id, consumer_secret=client_secret,
                domain="ferrysim.my", session=session, version="62.0")
out = {"instance": sf.sf_instance}

users = sf.query_all("SELECT Id, Email FROM User")
out["users"] = sorted(u["Email"] for u in users["records"])

if mode == "readback":
    cases = sf.query_all(
        "SELECT Id, Kustomer_Id__c, Subject, Status, Priority, ContactId FROM Case")
    out["cases"] = [{k: v for k, v in r.items() if k != "attributes"} for r in cases["records"]]
    emails = sf.query_all(
        "SELECT Id, ParentId, Kustomer_Id__c, Incoming, TextBody, MessageDate, Status FROM EmailMessage")
    out["emails"] = [{k: v for k, v in r.items() if k != "attributes"} for r in emails["records"]]
    comments = sf.query_all("SELECT Id, ParentId, CommentBody, IsPublished FROM CaseComment")
    out["comments"] = [{k: v for k, v in r.items() if k != "attributes"} for r in comments["records"]]
    jobs = sf.restful("jobs/ingest", method="GET")
    out["jobs"] = [{"id": j["id"], "state": j["state"], "object": j["object"],
                    "processed": j["numberRecordsProcessed"]} for j in jobs["records"]]
    print(json.dumps(out))
    sys.exit(0)

case = sf.Case.describe()
status = next(f for f in case["fields"] if f["name"] == "Status")
out["case_statuses"] = [v["value"] for v in status["picklistValues"]]
out["case_status_restricted"] = status["restrictedPicklist"]
out["external_ids"] = [f["name"] for f in case["fields"] if f["externalId"]]

acct = sf.Account.create({"Name": "Acme", "Website": "acme.test", "Kustomer_Id__c": "co-1"})
out["account_created"] = acct["success"]
out["account"] = sf.Account.get(acct["id"])["Name"]
up = sf.Contact.upsert("Kustomer_Id__c/cu-1", {"LastName": "Lovelace", "Email": "ada@x.test",
                                              "Account": {"Kustomer_Id__c": "co-1"}})
out["contact_upsert_status"] = up
again = sf.Contact.upsert("Kustomer_Id__c/cu-1", {"FirstName": "Ada"})
out["contact_upsert_again"] = again
contact = sf.Contact.get_by_custom_id("Kustomer_Id__c", "cu-1")
out["contact"] = {"Name": contact["Name"], "AccountId": contact["AccountId"] == acct["id"]}
try:
    sf.Case.create({"Subject": "bad", "Status": "Pending"})
    out["bad_picklist"] = "accepted"
except Exception as e:  # simple_salesforce raises SalesforceMalformedRequest
    out["bad_picklist"] = type(e).__name__ + ": " + str(e.content[0]["errorCode"])

rows = [{"Kustomer_Id__c": "cv-%d" % i, "Subject": "Case %d" % i, "Status": "New",
         "Contact.Kustomer_Id__c": "cu-1"} for i in range(25)]
rows.append({"Kustomer_Id__c": "cv-bad", "Subject": "x", "Status": "Pending",
             "Contact.Kustomer_Id__c": "cu-1"})
res = sf.bulk2.Case.upsert(records=rows, external_id_field="Kustomer_Id__c", wait=1)
out["bulk"] = [{"processed": r["numberRecordsProcessed"], "failed": r["numberRecordsFailed"]}
               for r in res]
job = res[0]["job_id"]
ok = list(csv.DictReader(io.StringIO(sf.bulk2.Case.get_successful_records(job))))
bad = list(csv.DictReader(io.StringIO(sf.bulk2.Case.get_failed_records(job))))
out["bulk_ok"] = sorted(r["Kustomer_Id__c"] for r in ok)
out["bulk_created"] = sorted(set(r["sf__Created"] for r in ok))
out["bulk_failed"] = [(r["Kustomer_Id__c"], r["sf__Error"].split(":")[0]) for r in bad]
info = sf.restful("jobs/ingest/%s" % job, method="GET")
out["bulk_state"] = info["state"]

cases = sf.query_all("SELECT Id, Kustomer_Id__c, Contact.Kustomer_Id__c FROM Case WHERE Status = 'New'")
out["query_total"] = cases["totalSize"]
out["query_rows"] = len(cases["records"])
out["query_contact"] = sorted(set(r["Contact"]["Kustomer_Id__c"] for r in cases["records"]))
page = sf.query("SELECT Id FROM Case")
out["first_page_done"] = page["done"]
limits = sf.limits()
out["limits_max"] = limits["DailyApiRequests"]["Max"]
out["api_usage"] = sf.api_usage.get("api-usage").used if sf.api_usage.get("api-usage") else None
print(json.dumps(out))
