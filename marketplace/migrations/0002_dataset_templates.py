"""The catalogue of dataset templates (reference data)."""

from django.db import migrations


def field(name, field_type, description="", **constraints):
    return {"id": name, "name": name, "type": field_type, "description": description, "constraints": constraints}


TEMPLATES = [
    {
        "id": "customer-profiles",
        "name": "Customer profiles",
        "description": "Retail customers with contact details, segment and lifetime value.",
        "category": "ecommerce",
        "schema": [
            field("customer_id", "uuid", "Unique customer id", required=True, unique=True),
            field("full_name", "name", "Customer name", required=True),
            field("email", "email", "Contact e-mail", required=True, unique=True),
            field("country", "string", "Country of residence", required=True),
            field("segment", "enum", "Marketing segment", required=True, enum=["new", "regular", "vip", "churned"]),
            field("lifetime_value", "float", "Total spent in USD", min=0, max=100000),
            field("signed_up_at", "datetime", "Sign-up time", required=True),
        ],
        "preview_data": [
            {
                "customer_id": "6f1c2a7e-2b64-4a53-9c1e-0d4f6c3b2a11",
                "full_name": "Ada Moreno",
                "email": "ada.moreno@example.com",
                "country": "Spain",
                "segment": "vip",
                "lifetime_value": 4210.5,
                "signed_up_at": "2024-03-02T10:15:00Z",
            }
        ],
        "use_cases": ["Customer segmentation", "Churn prediction", "CRM testing"],
        "estimated_rows": 10000,
    },
    {
        "id": "financial-transactions",
        "name": "Financial transactions",
        "description": "Card transactions with merchant, amount and a fraud label.",
        "category": "finance",
        "schema": [
            field("transaction_id", "uuid", "Unique transaction id", required=True, unique=True),
            field("account_id", "string", "Account number", required=True, pattern="^ACC[0-9]{8}$"),
            field("amount", "float", "Amount in USD", required=True, min=0.01, max=50000),
            field("merchant_category", "enum", "Merchant category", enum=["grocery", "travel", "online", "fuel"]),
            field("timestamp", "datetime", "When it happened", required=True),
            field("is_fraud", "boolean", "Fraud label", required=True),
        ],
        "preview_data": [
            {
                "transaction_id": "0b9e8c1a-52f4-4f0e-a1d2-7c3e9b8a6f50",
                "account_id": "ACC00412987",
                "amount": 82.4,
                "merchant_category": "grocery",
                "timestamp": "2024-06-11T18:42:00Z",
                "is_fraud": False,
            }
        ],
        "use_cases": ["Fraud detection", "Anomaly detection", "Payments testing"],
        "estimated_rows": 50000,
    },
    {
        "id": "patient-records",
        "name": "Patient records",
        "description": "De-identified patient visits with vitals and a diagnosis code.",
        "category": "healthcare",
        "schema": [
            field("patient_id", "uuid", "Pseudonymous patient id", required=True),
            field("age", "integer", "Age in years", required=True, min=0, max=110),
            field("sex", "enum", "Recorded sex", enum=["female", "male", "other"]),
            field("heart_rate", "integer", "Beats per minute", min=30, max=220),
            field("diagnosis_code", "string", "ICD-10 code", pattern="^[A-Z][0-9]{2}(\\.[0-9]{1,2})?$"),
            field("visit_date", "date", "Date of the visit", required=True),
        ],
        "preview_data": [
            {
                "patient_id": "c3d2e1f0-7a6b-4c5d-8e9f-0a1b2c3d4e5f",
                "age": 54,
                "sex": "female",
                "heart_rate": 72,
                "diagnosis_code": "I10",
                "visit_date": "2024-01-19",
            }
        ],
        "use_cases": ["Clinical outcome prediction", "Healthcare analytics", "EHR system testing"],
        "estimated_rows": 20000,
    },
    {
        "id": "support-conversations",
        "name": "Support conversations",
        "description": "Customer support questions with answers, intent and sentiment.",
        "category": "nlp",
        "schema": [
            field("conversation_id", "uuid", "Conversation id", required=True, unique=True),
            field("question", "text", "The customer's message", required=True, min=10, max=1000),
            field("answer", "text", "The agent's reply", required=True, min=10, max=2000),
            field("intent", "enum", "Intent label", enum=["billing", "technical", "account", "other"]),
            field("sentiment", "enum", "Sentiment label", enum=["negative", "neutral", "positive"]),
        ],
        "preview_data": [
            {
                "conversation_id": "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d",
                "question": "I was charged twice for my subscription this month.",
                "answer": "Sorry about that! I've refunded the duplicate charge.",
                "intent": "billing",
                "sentiment": "negative",
            }
        ],
        "use_cases": ["Chatbot fine-tuning", "Intent classification", "Sentiment analysis"],
        "estimated_rows": 5000,
    },
]


def add_templates(apps, schema_editor):
    DatasetTemplate = apps.get_model("marketplace", "DatasetTemplate")
    for template in TEMPLATES:
        DatasetTemplate.objects.update_or_create(id=template["id"], defaults=template)


def remove_templates(apps, schema_editor):
    DatasetTemplate = apps.get_model("marketplace", "DatasetTemplate")
    DatasetTemplate.objects.filter(id__in=[template["id"] for template in TEMPLATES]).delete()


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0001_initial")]

    operations = [migrations.RunPython(add_templates, remove_templates)]
