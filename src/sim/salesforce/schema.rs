//! The objects the Salesforce simulator knows and their fields, as the
//! object reference describes them (`../shared/reference/salesforce-api.md`
//! §7, with the lengths and rules it marks confirmed: EmailMessage bodies
//! 32,000 characters, CaseComment's body 4,000 *bytes*, Case Subject 255).
//! `describe` is generated from this, and so is the validation: required
//! fields, restricted picklists, lengths, createable/updateable.

use serde_json::{json, Value};

/// A field's kind, as `describe` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Id,
    Text,
    TextArea,
    Email,
    Url,
    Phone,
    Picklist,
    Boolean,
    DateTime,
    Reference,
    Base64,
    Int,
    /// Number fields of custom objects.
    Double,
}

impl FieldType {
    pub fn name(self) -> &'static str {
        match self {
            FieldType::Id => "id",
            FieldType::Text => "string",
            FieldType::TextArea => "textarea",
            FieldType::Email => "email",
            FieldType::Url => "url",
            FieldType::Phone => "phone",
            FieldType::Picklist => "picklist",
            FieldType::Boolean => "boolean",
            FieldType::DateTime => "datetime",
            FieldType::Reference => "reference",
            FieldType::Base64 => "base64",
            FieldType::Int => "int",
            FieldType::Double => "double",
        }
    }

    /// The SOAP type `describe` reports beside the field type.
    fn soap(self) -> &'static str {
        match self {
            FieldType::Id | FieldType::Reference => "tns:ID",
            FieldType::Boolean => "xsd:boolean",
            FieldType::DateTime => "xsd:dateTime",
            FieldType::Base64 => "xsd:base64Binary",
            FieldType::Int => "xsd:int",
            FieldType::Double => "xsd:double",
            _ => "xsd:string",
        }
    }
}

/// When a field can be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Create and update.
    Write,
    /// On create only (EmailMessage's fields once it is not a draft are
    /// handled by the store; these never change after insert).
    CreateOnly,
    /// System-managed.
    ReadOnly,
    /// An audit field: createable only with "Set Audit Fields upon Record
    /// Creation", never updateable.
    Audit,
}

/// One field.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: &'static str,
    pub kind: FieldType,
    /// Characters (bytes where `bytes` is set); 0 for none.
    pub length: usize,
    /// The length is counted in UTF-8 bytes (CaseComment.CommentBody).
    pub bytes: bool,
    pub required: bool,
    pub access: Access,
    pub external_id: bool,
    /// Picklist values, and whether the list is restricted.
    pub values: &'static [&'static str],
    pub restricted: bool,
    /// Default applied on create when the field is absent.
    pub default: Option<&'static str>,
    pub reference_to: &'static [&'static str],
}

const fn f(name: &'static str, kind: FieldType, length: usize) -> Field {
    Field {
        name,
        kind,
        length,
        bytes: false,
        required: false,
        access: Access::Write,
        external_id: false,
        values: &[],
        restricted: false,
        default: None,
        reference_to: &[],
    }
}

impl Field {
    const fn req(mut self) -> Field {
        self.required = true;
        self
    }
    const fn access(mut self, a: Access) -> Field {
        self.access = a;
        self
    }
    const fn picklist(
        mut self,
        values: &'static [&'static str],
        default: Option<&'static str>,
    ) -> Field {
        self.values = values;
        self.restricted = true;
        self.default = default;
        self
    }
    const fn refs(mut self, to: &'static [&'static str]) -> Field {
        self.reference_to = to;
        self
    }
    const fn in_bytes(mut self) -> Field {
        self.bytes = true;
        self
    }

    pub fn createable(&self, audit_permission: bool) -> bool {
        match self.access {
            Access::Write | Access::CreateOnly => true,
            Access::Audit => audit_permission,
            Access::ReadOnly => false,
        }
    }

    pub fn updateable(&self) -> bool {
        self.access == Access::Write
    }
}

/// One object.
#[derive(Debug, Clone)]
pub struct SObject {
    pub name: String,
    pub prefix: String,
    pub label: String,
    pub custom: bool,
    pub fields: Vec<Field>,
}

impl SObject {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }

    /// `GET /sobjects/{name}/describe`.
    pub fn describe(&self, audit_permission: bool, version: &str) -> Value {
        let fields: Vec<Value> = self
            .fields
            .iter()
            .map(|fd| {
                let createable = fd.createable(audit_permission);
                json!({
                    "name": fd.name,
                    "label": fd.name.trim_end_matches("__c").replace('_', " "),
                    "type": fd.kind.name(),
                    "soapType": fd.kind.soap(),
                    "length": if matches!(fd.kind, FieldType::Boolean | FieldType::DateTime | FieldType::Int | FieldType::Double) { 0 } else { fd.length },
                    "byteLength": if fd.bytes { fd.length } else { fd.length * 3 },
                    "nillable": !fd.required && fd.kind != FieldType::Boolean,
                    "defaultedOnCreate": fd.default.is_some() || fd.kind == FieldType::Boolean || fd.access == Access::ReadOnly,
                    "createable": createable,
                    "updateable": fd.updateable(),
                    "externalId": fd.external_id,
                    "unique": fd.external_id,
                    "idLookup": fd.external_id || fd.kind == FieldType::Id,
                    "custom": fd.name.ends_with("__c"),
                    "restrictedPicklist": fd.restricted,
                    "picklistValues": fd.values.iter().map(|v| json!({
                        "active": true, "defaultValue": fd.default == Some(*v), "label": v, "value": v, "validFor": null
                    })).collect::<Vec<_>>(),
                    "referenceTo": fd.reference_to,
                    "relationshipName": relationship_name(fd.name, fd.kind),
                })
            })
            .collect();
        json!({
            "name": self.name,
            "label": self.label,
            "labelPlural": format!("{}s", self.label),
            "keyPrefix": self.prefix,
            "custom": self.custom,
            "createable": true,
            "updateable": true,
            "deletable": true,
            "queryable": true,
            "fields": fields,
            "urls": {
                "sobject": format!("/services/data/v{version}/sobjects/{}", self.name),
                "describe": format!("/services/data/v{version}/sobjects/{}/describe", self.name),
                "rowTemplate": format!("/services/data/v{version}/sobjects/{}/{{ID}}", self.name),
            },
        })
    }
}

/// `AccountId` → `Account`, `Case__c` → `Case__r`: the name a lookup is
/// used under in SOQL and in external-id relationship columns.
pub fn relationship_name(field: &str, kind: FieldType) -> Option<String> {
    if kind != FieldType::Reference {
        return None;
    }
    if let Some(base) = field.strip_suffix("__c") {
        return Some(format!("{base}__r"));
    }
    field.strip_suffix("Id").map(str::to_string)
}

use Access::*;
use FieldType::*;

/// Fields every object has: id, owner-less audit fields, the system stamp.
fn system_fields() -> Vec<Field> {
    vec![
        f("Id", Id, 18).access(ReadOnly),
        f("IsDeleted", Boolean, 0).access(ReadOnly),
        f("CreatedDate", DateTime, 0).access(Audit),
        f("CreatedById", Reference, 18)
            .access(Audit)
            .refs(&["User"]),
        f("LastModifiedDate", DateTime, 0).access(Audit),
        f("LastModifiedById", Reference, 18)
            .access(Audit)
            .refs(&["User"]),
        f("SystemModstamp", DateTime, 0).access(ReadOnly),
    ]
}

/// The external-id field ferry keys records by.
fn external(name: &'static str) -> Field {
    let mut x = f(name, Text, 255);
    x.external_id = true;
    x
}

/// Case Status values of a new org (one of them, Closed, closes).
pub const CASE_STATUSES: &[&str] = &["New", "Working", "Escalated", "Closed"];
pub const CASE_PRIORITIES: &[&str] = &["High", "Medium", "Low"];
pub const CASE_ORIGINS: &[&str] = &["Phone", "Email", "Web"];
/// EmailMessage Status codes: 0 New, 1 Read, 2 Replied, 3 Sent,
/// 4 Forwarded, 5 Draft.
pub const EMAIL_STATUSES: &[&str] = &["0", "1", "2", "3", "4", "5"];
pub const LEAD_STATUSES: &[&str] = &[
    "Open - Not Contacted",
    "Working - Contacted",
    "Closed - Converted",
    "Closed - Not Converted",
];

/// The org's schema: standard objects, with the external-id field
/// `ext` (and the custom fields an admin adds for a migration) on those
/// that take custom fields when `custom_fields` is set.
pub fn standard(ext: &'static str, custom_fields: bool) -> Vec<SObject> {
    let obj = |name: &str, prefix: &str, mut fields: Vec<Field>, extra: Vec<Field>| {
        let mut all = system_fields();
        all.append(&mut fields);
        if custom_fields {
            all.extend(extra);
        }
        SObject {
            name: name.to_string(),
            prefix: prefix.to_string(),
            label: name.to_string(),
            custom: false,
            fields: all,
        }
    };
    vec![
        obj(
            "User",
            "005",
            vec![
                f("Username", Text, 80).req(),
                f("Email", Email, 128).req(),
                f("FirstName", Text, 40),
                f("LastName", Text, 80).req(),
                f("Name", Text, 121).access(ReadOnly),
                f("IsActive", Boolean, 0),
            ],
            vec![],
        ),
        obj(
            "Group",
            "00G",
            vec![
                f("Name", Text, 40).req(),
                f("DeveloperName", Text, 80),
                f("Type", Picklist, 40).picklist(&["Regular", "Queue"], Some("Regular")),
                f("Email", Email, 255),
            ],
            vec![],
        ),
        obj(
            "QueueSobject",
            "03g",
            vec![
                f("QueueId", Reference, 18)
                    .req()
                    .access(CreateOnly)
                    .refs(&["Group"]),
                f("SobjectType", Picklist, 40)
                    .req()
                    .access(CreateOnly)
                    .picklist(&["Case", "Lead"], None),
            ],
            vec![],
        ),
        obj(
            "GroupMember",
            "011",
            vec![
                f("GroupId", Reference, 18)
                    .req()
                    .access(CreateOnly)
                    .refs(&["Group"]),
                f("UserOrGroupId", Reference, 18)
                    .req()
                    .access(CreateOnly)
                    .refs(&["User", "Group"]),
            ],
            vec![],
        ),
        obj(
            "Account",
            "001",
            vec![
                f("Name", Text, 255).req(),
                f("Website", Url, 255),
                f("Phone", Phone, 40),
                f("Description", TextArea, 32_000),
                f("OwnerId", Reference, 18).refs(&["User"]),
            ],
            vec![external(ext)],
        ),
        obj(
            "Contact",
            "003",
            vec![
                f("FirstName", Text, 40),
                f("LastName", Text, 80).req(),
                f("Name", Text, 121).access(ReadOnly),
                f("Email", Email, 80),
                f("Phone", Phone, 40),
                f("Description", TextArea, 32_000),
                f("AccountId", Reference, 18).refs(&["Account"]),
                f("OwnerId", Reference, 18).refs(&["User"]),
            ],
            vec![external(ext), f("Customer_Type__c", Text, 255)],
        ),
        obj(
            "Lead",
            "00Q",
            vec![
                f("FirstName", Text, 40),
                f("LastName", Text, 80).req(),
                f("Company", Text, 255).req(),
                f("Status", Picklist, 40).picklist(LEAD_STATUSES, Some("Open - Not Contacted")),
                f("Email", Email, 80),
                f("Phone", Phone, 40),
                f("Description", TextArea, 32_000),
                f("OwnerId", Reference, 18).refs(&["User", "Group"]),
            ],
            vec![external(ext), f("Customer_Type__c", Text, 255)],
        ),
        obj(
            "Case",
            "500",
            vec![
                f("CaseNumber", Text, 30).access(ReadOnly),
                f("Subject", Text, 255),
                f("Description", TextArea, 32_000),
                f("Status", Picklist, 40).picklist(CASE_STATUSES, Some("New")),
                f("Priority", Picklist, 40).picklist(CASE_PRIORITIES, Some("Medium")),
                f("Origin", Picklist, 40).picklist(CASE_ORIGINS, None),
                f("IsClosed", Boolean, 0).access(ReadOnly),
                f("ClosedDate", DateTime, 0).access(Audit),
                f("ContactId", Reference, 18).refs(&["Contact"]),
                f("AccountId", Reference, 18).refs(&["Account"]),
                f("OwnerId", Reference, 18).refs(&["User", "Group"]),
                f("SuppliedEmail", Email, 80),
                f("SuppliedName", Text, 80),
            ],
            vec![
                external(ext),
                f("Original_Created__c", DateTime, 0),
                f("Original_Closed__c", DateTime, 0),
                f("Kustomer_Tags__c", TextArea, 32_000),
            ],
        ),
        obj(
            "EmailMessage",
            "02s",
            vec![
                f("ParentId", Reference, 18)
                    .access(CreateOnly)
                    .refs(&["Case"]),
                f("Incoming", Boolean, 0).access(CreateOnly),
                f("FromAddress", Email, 1000).access(CreateOnly),
                f("FromName", Text, 1000).access(CreateOnly),
                f("ToAddress", Text, 4000).access(CreateOnly),
                f("CcAddress", Text, 4000).access(CreateOnly),
                f("Subject", Text, 3000).access(CreateOnly),
                f("TextBody", TextArea, 32_000).access(CreateOnly),
                f("HtmlBody", TextArea, 32_000).access(CreateOnly),
                // "The Internet headers of the email message" (32,000;
                // reference/salesforce-api.md, EmailMessage fields).
                f("Headers", TextArea, 32_000).access(CreateOnly),
                f("MessageDate", DateTime, 0).access(CreateOnly),
                f("Status", Picklist, 40)
                    .access(CreateOnly)
                    .picklist(EMAIL_STATUSES, None)
                    .req(),
                f("IsExternallyVisible", Boolean, 0),
                f("HasAttachment", Boolean, 0).access(ReadOnly),
            ],
            vec![external(ext)],
        ),
        // CaseComment takes no custom fields [reference §6, unverified:
        // `ferry probe` asks describe]; ferry marks its comments in the body.
        obj(
            "CaseComment",
            "00a",
            vec![
                f("ParentId", Reference, 18)
                    .req()
                    .access(CreateOnly)
                    .refs(&["Case"]),
                f("CommentBody", TextArea, 4_000).in_bytes(),
                f("IsPublished", Boolean, 0),
            ],
            vec![],
        ),
        obj(
            "ContentVersion",
            "068",
            vec![
                f("Title", Text, 255).req(),
                f("PathOnClient", Text, 500).req().access(CreateOnly),
                f("VersionData", Base64, 0).req().access(CreateOnly),
                f("Description", TextArea, 1000),
                f("FirstPublishLocationId", Reference, 18)
                    .access(CreateOnly)
                    .refs(&["Case", "EmailMessage", "Account", "Contact"]),
                f("ContentDocumentId", Reference, 18)
                    .access(ReadOnly)
                    .refs(&["ContentDocument"]),
                f("ContentSize", Int, 0).access(ReadOnly),
                f("Checksum", Text, 50).access(ReadOnly),
                f("ContentLocation", Picklist, 40)
                    .access(CreateOnly)
                    .picklist(&["S", "E", "L"], Some("S")),
            ],
            vec![external(ext)],
        ),
        obj(
            "ContentDocument",
            "069",
            vec![
                f("Title", Text, 255).access(ReadOnly),
                f("LatestPublishedVersionId", Reference, 18)
                    .access(ReadOnly)
                    .refs(&["ContentVersion"]),
            ],
            vec![],
        ),
        obj(
            "ContentDocumentLink",
            "06A",
            vec![
                f("ContentDocumentId", Reference, 18)
                    .req()
                    .access(CreateOnly)
                    .refs(&["ContentDocument"]),
                f("LinkedEntityId", Reference, 18)
                    .req()
                    .access(CreateOnly)
                    .refs(&["Case", "EmailMessage", "Account", "Contact"]),
                f("ShareType", Picklist, 40).picklist(&["V", "C", "I"], Some("V")),
                f("Visibility", Picklist, 40).picklist(
                    &["AllUsers", "InternalUsers", "SharedUsers"],
                    Some("AllUsers"),
                ),
            ],
            vec![],
        ),
        obj(
            "Topic",
            "0TO",
            vec![f("Name", Text, 99).req(), f("Description", TextArea, 1000)],
            vec![],
        ),
        // Who sent and received an email: a Contact, Lead or User (object
        // reference, EmailMessageRelation: EmailMessageId, RelationId,
        // RelationAddress, RelationType a restricted picklist; only with
        // Email-to-Case or Enhanced Email, on for most orgs). The key
        // prefix is not in the reference: any unused one stands in.
        obj(
            "EmailMessageRelation",
            "0ER",
            vec![
                f("EmailMessageId", Reference, 18)
                    .req()
                    .access(CreateOnly)
                    .refs(&["EmailMessage"]),
                f("RelationId", Reference, 18).refs(&["Contact", "Lead", "User"]),
                f("RelationAddress", Text, 255).access(CreateOnly),
                f("RelationType", Picklist, 40)
                    .req()
                    .access(CreateOnly)
                    .picklist(
                        &["ToAddress", "CcAddress", "BccAddress", "FromAddress"],
                        None,
                    ),
            ],
            vec![],
        ),
        obj(
            "TopicAssignment",
            "0FT",
            vec![
                f("TopicId", Reference, 18)
                    .req()
                    .access(CreateOnly)
                    .refs(&["Topic"]),
                f("EntityId", Reference, 18)
                    .req()
                    .access(CreateOnly)
                    .refs(&["Case", "Account", "Contact", "Lead"]),
            ],
            vec![],
        ),
    ]
}

/// A custom object as an admin creates it in Setup: the standard fields
/// every custom object has (Name and the system fields); its own fields
/// come through [`admin_field`].
pub fn custom_object(name: &str, prefix: &str) -> SObject {
    let mut fields = system_fields();
    fields.push(f("Name", Text, 80));
    fields.push(f("OwnerId", Reference, 18).refs(&["User", "Group"]));
    SObject {
        name: name.to_string(),
        prefix: prefix.to_string(),
        label: name.trim_end_matches("__c").replace('_', " "),
        custom: true,
        fields,
    }
}

/// A custom field as Setup's field types name them (`Text`, `Number`,
/// `Checkbox`, `Date/Time`, `Long Text Area`, `Lookup`, and `Text
/// (External ID, Unique)`). The simulator lives for one test or demo,
/// so the leaked names are bounded.
pub fn admin_field(
    name: &str,
    kind: &str,
    length: Option<usize>,
    reference_to: Option<&str>,
) -> Result<Field, String> {
    if !name.ends_with("__c") {
        return Err(format!("{name}: a custom field's API name ends in __c"));
    }
    let leak = |s: &str| -> &'static str { Box::leak(s.to_string().into_boxed_str()) };
    let name = leak(name);
    let k = kind.to_ascii_lowercase();
    Ok(match k.as_str() {
        "text" => f(name, Text, length.unwrap_or(255).min(255)),
        "long text area" => f(name, TextArea, length.unwrap_or(32_768).min(131_072)),
        "number" => f(name, Double, 0),
        "checkbox" => f(name, Boolean, 0),
        "date/time" => f(name, DateTime, 0),
        "lookup" => {
            let to = reference_to.ok_or_else(|| format!("{name}: a Lookup names its object"))?;
            let to: &'static [&'static str] = Box::leak(vec![leak(to)].into_boxed_slice());
            f(name, Reference, 18).refs(to)
        }
        _ if k.starts_with("text (external id") => external(name),
        _ => return Err(format!("{name}: unknown field type {kind:?}")),
    })
}

/// What makes a record unique where the object has no external id: the
/// fields (compared case-insensitively) and the code Salesforce refuses a
/// second one with.
pub fn unique_key(object: &str) -> Option<(&'static [&'static str], &'static str)> {
    Some(match object {
        "Group" => (&["DeveloperName"], "DUPLICATE_DEVELOPER_NAME"),
        "Topic" => (&["Name"], "DUPLICATE_VALUE"),
        "QueueSobject" => (&["QueueId", "SobjectType"], "DUPLICATE_VALUE"),
        "GroupMember" => (&["GroupId", "UserOrGroupId"], "DUPLICATE_VALUE"),
        "TopicAssignment" => (&["EntityId", "TopicId"], "DUPLICATE_VALUE"),
        "ContentDocumentLink" => (&["LinkedEntityId", "ContentDocumentId"], "DUPLICATE_VALUE"),
        _ => return None,
    })
}
