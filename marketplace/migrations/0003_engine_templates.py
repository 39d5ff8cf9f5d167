"""Eight dataset templates whose preview data the generation engine makes (issue 6).

Upserts the templates below (``customer-profiles`` and ``financial-transactions`` keep their ids and
gain fields) and sets every active template's ``preview_data`` to rows the engine generates from its
schema, seeded by the template id (``marketplace.engine.template_preview``). No row describes a
real person: every value is drawn by the engine.
"""

from django.db import migrations


def field(name, field_type, description="", **constraints):
    return {"id": name, "name": name, "type": field_type, "description": description, "constraints": constraints}


COUNTRIES = ["United States", "Canada", "United Kingdom", "Germany", "France", "Spain", "Japan", "Brazil", "India"]
CITIES = ["New York", "London", "Berlin", "Toronto", "Austin", "Madrid", "Tokyo", "Remote"]

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
            field("phone", "phone", "Contact phone"),
            field("country", "enum", "Country of residence", required=True, enum=COUNTRIES),
            field("segment", "enum", "Marketing segment", required=True, enum=["new", "regular", "vip", "churned"]),
            field("lifetime_value", "float", "Total spent in USD", min=0, max=100000),
            field("signed_up_at", "datetime", "Sign-up time", required=True),
            field("marketing_opt_in", "boolean", "Accepts marketing e-mail", required=True),
        ],
        "use_cases": ["Customer segmentation", "Churn prediction", "CRM testing"],
        "estimated_rows": 10000,
    },
    {
        "id": "ecommerce-orders",
        "name": "E-commerce orders",
        "description": "Online orders with product, quantity, price, status and shipping address.",
        "category": "ecommerce",
        "schema": [
            field("order_id", "string", "Order number", required=True, unique=True, pattern=r"^ORD-[0-9]{8}$"),
            field("customer_email", "email", "Buyer e-mail", required=True),
            field("product_sku", "string", "Product SKU", required=True, pattern=r"^SKU-[A-Z]{3}-[0-9]{4}$"),
            field(
                "category",
                "enum",
                "Product category",
                required=True,
                enum=["electronics", "home", "fashion", "beauty", "sports", "books", "toys", "grocery"],
            ),
            field("quantity", "integer", "Units ordered", required=True, min=1, max=10),
            field("unit_price", "float", "Price per unit", required=True, min=0.5, max=2000),
            field("currency", "enum", "Currency", required=True, enum=["USD", "EUR", "GBP"]),
            field(
                "status",
                "enum",
                "Fulfilment status",
                required=True,
                enum=["pending", "paid", "shipped", "delivered", "returned", "cancelled"],
            ),
            field("ordered_at", "datetime", "Order time", required=True),
            field("shipping_address", "address", "Delivery address"),
        ],
        "use_cases": ["Demand forecasting", "Returns prediction", "Order pipeline testing"],
        "estimated_rows": 50000,
    },
    {
        "id": "financial-transactions",
        "name": "Financial transactions",
        "description": "Card transactions with merchant, amount, channel and a fraud label.",
        "category": "finance",
        "schema": [
            field("transaction_id", "uuid", "Unique transaction id", required=True, unique=True),
            field("account_id", "string", "Account number", required=True, pattern="^ACC[0-9]{8}$"),
            field("amount", "float", "Amount in USD", required=True, min=0.01, max=50000),
            field("merchant_category", "enum", "Merchant category", enum=["grocery", "travel", "online", "fuel"]),
            field("channel", "enum", "Channel", required=True, enum=["card_present", "online", "atm", "transfer"]),
            field("country", "enum", "Country of the merchant", required=True, enum=COUNTRIES),
            field("timestamp", "datetime", "When it happened", required=True),
            field("is_fraud", "boolean", "Fraud label", required=True),
        ],
        "use_cases": ["Fraud detection", "Anomaly detection", "Payment system testing"],
        "estimated_rows": 100000,
    },
    {
        "id": "support-tickets",
        "name": "Support tickets",
        "description": "Help-desk tickets with subject, description, priority, category and satisfaction.",
        "category": "customer-service",
        "schema": [
            field("ticket_id", "string", "Ticket number", required=True, unique=True, pattern=r"^TCK-[0-9]{6}$"),
            field("customer_email", "email", "Requester", required=True),
            field("subject", "string", "Subject line", required=True, min=10, max=80),
            field("description", "text", "What the customer wrote", required=True),
            field("priority", "enum", "Priority", required=True, enum=["low", "normal", "high", "urgent"]),
            field(
                "category",
                "enum",
                "Category",
                required=True,
                enum=["billing", "technical", "account", "shipping", "other"],
            ),
            field("status", "enum", "Status", required=True, enum=["open", "pending", "resolved", "closed"]),
            field("created_at", "datetime", "Opened at", required=True),
            field("satisfaction_score", "integer", "CSAT, 1-5 (empty when not rated)", min=1, max=5),
        ],
        "use_cases": ["Ticket routing", "Priority prediction", "Help-desk load testing"],
        "estimated_rows": 20000,
    },
    {
        "id": "iot-sensor-readings",
        "name": "IoT sensor readings",
        "description": "Time-stamped readings from a fleet of devices, with battery level and an anomaly flag.",
        "category": "iot",
        "schema": [
            field("reading_id", "uuid", "Reading id", required=True, unique=True),
            field("device_id", "string", "Device", required=True, pattern=r"^dev-[a-f0-9]{8}$"),
            field(
                "sensor_type",
                "enum",
                "What is measured",
                required=True,
                enum=["temperature", "humidity", "pressure", "co2", "vibration"],
            ),
            field("value", "float", "Measured value", required=True, min=-40, max=1000),
            field("battery_level", "integer", "Battery, percent", min=0, max=100),
            field("firmware", "string", "Firmware version", required=True, pattern=r"^v[1-3]\.[0-9]\.[0-9]{1,2}$"),
            field("recorded_at", "datetime", "Reading time", required=True),
            field("is_anomaly", "boolean", "Anomaly label", required=True),
        ],
        "use_cases": ["Anomaly detection", "Predictive maintenance", "Time-series pipeline testing"],
        "estimated_rows": 500000,
    },
    {
        "id": "job-postings",
        "name": "Job postings",
        "description": "Job ads with title, company, location, contract, salary and an apply link.",
        "category": "hr",
        "schema": [
            field("posting_id", "uuid", "Posting id", required=True, unique=True),
            field(
                "title",
                "enum",
                "Job title",
                required=True,
                enum=[
                    "Software Engineer",
                    "Data Analyst",
                    "Product Manager",
                    "UX Designer",
                    "Account Executive",
                    "Nurse",
                    "Accountant",
                    "Warehouse Associate",
                ],
            ),
            field(
                "company",
                "string",
                "Company name",
                required=True,
                pattern=r"^[A-Z][a-z]{3,8} (Labs|Systems|Group|Analytics|Health|Logistics)$",
            ),
            field("location", "enum", "Location", required=True, enum=CITIES),
            field(
                "employment_type",
                "enum",
                "Contract",
                required=True,
                enum=["full-time", "part-time", "contract", "internship"],
            ),
            field("remote", "boolean", "Remote allowed", required=True),
            field("salary", "integer", "Yearly salary in USD", min=30000, max=250000),
            field("description", "text", "Ad text", required=True),
            field("posted_on", "date", "Publication date", required=True),
            field("apply_url", "url", "Where to apply"),
        ],
        "use_cases": ["Salary prediction", "Job classification", "Search relevance testing"],
        "estimated_rows": 10000,
    },
    {
        "id": "product-reviews",
        "name": "Product reviews",
        "description": "Customer reviews with rating, title, body, helpful votes and a sentiment label.",
        "category": "ecommerce",
        "schema": [
            field("review_id", "uuid", "Review id", required=True, unique=True),
            field("product_sku", "string", "Product SKU", required=True, pattern=r"^SKU-[A-Z]{3}-[0-9]{4}$"),
            field("reviewer_name", "name", "Display name"),
            field("rating", "integer", "Stars", required=True, min=1, max=5),
            field("title", "string", "Review title", required=True, min=5, max=60),
            field("body", "text", "Review text", required=True),
            field("verified_purchase", "boolean", "Bought on the site", required=True),
            field("helpful_votes", "integer", "Helpful votes", min=0, max=500),
            field("reviewed_on", "date", "Review date", required=True),
            field("sentiment", "enum", "Sentiment label", required=True, enum=["negative", "neutral", "positive"]),
        ],
        "use_cases": ["Sentiment analysis", "Rating prediction", "Review moderation testing"],
        "estimated_rows": 25000,
    },
    {
        "id": "clinical-trial-records",
        "name": "Clinical-trial-style records",
        "description": "Pseudonymous participants of a three-arm trial: vitals, visits and outcomes. No real person.",
        "category": "healthcare",
        "schema": [
            field(
                "participant_code", "string", "Pseudonymous code", required=True, unique=True, pattern=r"^P-[0-9]{5}$"
            ),
            field("trial_arm", "enum", "Arm", required=True, enum=["placebo", "low_dose", "high_dose"]),
            field("site", "enum", "Site", required=True, enum=["SITE-01", "SITE-02", "SITE-03", "SITE-04", "SITE-05"]),
            field("age", "integer", "Age at enrolment", required=True, min=18, max=85),
            field("sex", "enum", "Recorded sex", required=True, enum=["female", "male"]),
            field("bmi", "float", "Body-mass index", min=16, max=45),
            field("systolic_bp", "integer", "Systolic blood pressure, mmHg", min=90, max=180),
            field("enrolled_on", "date", "Enrolment date", required=True),
            field("visit_number", "integer", "Visit", required=True, min=1, max=12),
            field("adverse_event", "boolean", "Adverse event reported", required=True),
            field("outcome", "enum", "Outcome", required=True, enum=["improved", "stable", "worsened", "withdrawn"]),
        ],
        "use_cases": ["Trial analytics prototyping", "Outcome modelling", "Privacy-safe EDC testing"],
        "estimated_rows": 5000,
    },
]
EXISTING_IDS = ("customer-profiles", "financial-transactions")  # created by 0002, kept on reversal
CREATED_IDS = [template["id"] for template in TEMPLATES if template["id"] not in EXISTING_IDS]


def add_templates(apps, schema_editor):
    from marketplace.engine import template_preview
    from marketplace.engine.schema import schema_validate

    DatasetTemplate = apps.get_model("marketplace", "DatasetTemplate")
    for template in TEMPLATES:
        schema = schema_validate(template["schema"])
        DatasetTemplate.objects.update_or_create(
            id=template["id"],
            defaults={**template, "schema": schema, "is_active": True},
        )
    for template in DatasetTemplate.objects.filter(is_active=True):
        template.preview_data = template_preview(template.id, template.schema)
        template.save(update_fields=["preview_data"])


def remove_templates(apps, schema_editor):
    DatasetTemplate = apps.get_model("marketplace", "DatasetTemplate")
    DatasetTemplate.objects.filter(id__in=CREATED_IDS).delete()


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0002_dataset_templates")]

    operations = [migrations.RunPython(add_templates, remove_templates)]
