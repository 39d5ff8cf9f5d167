"""Realistic leaks the scrubber must remove, and what each line must still say afterwards.

Each case: ``text`` as a client might send it, ``leaks`` (substrings that must NOT survive) and
``keeps`` (substrings that MUST survive: exception types, line numbers, function and module
names, library-relative paths). The secrets below are fake but shaped like the real thing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    name: str
    text: str
    leaks: tuple[str, ...]
    keeps: tuple[str, ...] = ()


GH = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
GH_FINE = "github_pat_" + "11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGH"
GHO = "gho_" + "16C7e42F292c6912E7710c838347Ae178B4a"
SLACK = "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
SLACK_HOOK = "https://hooks.slack.com/services/" + "T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
STRIPE = "sk_live_" + "51H8xYzAbCdEfGhIjKlMnOpQr"
STRIPE_RK = "rk_test_" + "4eC39HqLyjWDarjtT1zdp7dc"
WHSEC = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
OPENAI = "sk-proj-" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAB7CD0EF"
OPENAI_OLD = "sk-" + "T3BlbkFJabcdefghijklmnopqrstuvwxyz012345"
ANTHROPIC = "sk-ant-api03-" + "abcDEF123ghiJKL456mnoPQR789stuVWX012yzA"
GOOGLE = "AIza" + "SyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"
YA29 = "ya29." + "a0AfH6SMBx3kYq7bLrWzT9-pQeXvN2mC8dF4gH1jK"
AWS_ID = "AKIA" + "IOSFODNN7EXAMPLE"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY"
NPM = "npm_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
HF = "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYz12345678"
GLPAT = "glpat-" + "xY9zAbC1dEfGh2IjKl3M"
SENDGRID = "SG." + "ngeVfQFYQlKU0ufo8x5d1A.TwL2iGABf9DHoTf-09kqeF8tAmbihYzrnopKc-1s5cr"
PYPI = "pypi-" + "AgEIcHlwaS5vcmcCJGE0ZDM5YWQ4LTk2YjYtNDE0Mi1hMDBiLTI3NGM1YjA3ZWM0ZQ"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
    "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
PRIVATE_KEY = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEowIBAAKCAQEA7bq2mZbC8fJ4xQnYt1KJv9w1Ykq2Qm0xXq8Lr3aBcDeFgHiJ\n"
    "kLmNoPqRsTuVwXyZ0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJK\n"
    "-----END RSA PRIVATE KEY-----"
)
OPENSSH_KEY = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    "QyNTUxOQAAACCj7k3mQeRr0bFq2YtP8Zx9Lw4Vn6Ks1Hd5Gc7Jf2Ue8AAAAJgAbCdEfGh\n"
)
HEX_TOKEN = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
B64_SECRET = "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1ub3A0NTY3"

CORPUS: tuple[Case, ...] = (
    # --- Python tracebacks -------------------------------------------------------------------
    Case(
        "python traceback in a home project",
        "Traceback (most recent call last):\n"
        '  File "/home/alice/projects/acme-billing/billing/invoice.py", line 42, in render_invoice\n'
        "    total = compute_total(lines)\n"
        '  File "/home/alice/projects/acme-billing/billing/totals.py", line 17, in compute_total\n'
        '    raise ValueError(f"negative amount for {customer}")\n'
        "ValueError: negative amount for alice.smith@acme-corp.com",
        ("alice", "acme-billing", "invoice.py", "totals.py", "alice.smith@acme-corp.com", "/home"),
        ("Traceback (most recent call last):", "line 42, in render_invoice", "line 17, in compute_total", "ValueError"),
    ),
    Case(
        "python traceback through site-packages",
        '  File "/Users/bob/work/secret-proj/.venv/lib/python3.12/site-packages/requests/adapters.py", '
        "line 519, in send\n"
        "    raise ConnectionError(e, request=request)\n"
        "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='10.20.30.40', port=443)",
        ("bob", "secret-proj", "10.20.30.40", "/Users"),
        (
            "<site-packages>/requests/adapters.py",
            "line 519, in send",
            "requests.exceptions.ConnectionError",
            "port=443",
        ),
    ),
    Case(
        "python stdlib frames",
        '  File "/usr/lib/python3.11/json/decoder.py", line 355, in raw_decode\n'
        '    raise JSONDecodeError("Expecting value", s, err.value) from None\n'
        "json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)",
        ("/usr/lib",),
        ("<python>/json/decoder.py", "line 355, in raw_decode", "json.decoder.JSONDecodeError", "line 1 column 1"),
    ),
    Case(
        "python traceback on windows with spaces",
        "Traceback (most recent call last):\n"
        '  File "C:\\Users\\Bob Smith\\Documents\\Client Work\\tool\\main.py", line 10, in <module>\n'
        "    run()\n"
        "PermissionError: [WinError 5] Access is denied: "
        "'C:\\\\Users\\\\Bob Smith\\\\AppData\\\\Local\\\\Temp\\\\x.lock'",
        ("Bob Smith", "Client Work", "main.py", "x.lock", "AppData"),
        ("line 10, in <module>", "PermissionError: [WinError 5] Access is denied"),
    ),
    Case(
        "python windows site-packages",
        '  File "C:\\Users\\carol\\AppData\\Local\\Programs\\Python\\Python311\\Lib\\site-packages\\urllib3\\'
        'connectionpool.py", line 703, in urlopen',
        ("carol", "AppData"),
        ("<site-packages>/urllib3/connectionpool.py", "line 703, in urlopen"),
    ),
    Case(
        "python windows stdlib",
        '  File "C:\\Python311\\Lib\\socket.py", line 962, in getaddrinfo\n'
        "socket.gaierror: [Errno 11001] getaddrinfo failed",
        ("C:\\Python311",),
        ("<python>/socket.py", "line 962, in getaddrinfo", "socket.gaierror: [Errno 11001]"),
    ),
    Case(
        "python FileNotFoundError",
        "FileNotFoundError: [Errno 2] No such file or directory: '/home/dave/clients/megacorp/contracts/2024-nda.pdf'",
        ("dave", "megacorp", "2024-nda.pdf", "contracts"),
        ("FileNotFoundError: [Errno 2] No such file or directory",),
    ),
    Case(
        "python IsADirectoryError tilde",
        "IsADirectoryError: [Errno 21] Is a directory: '~/Projects/stealth-startup'",
        ("stealth-startup", "Projects"),
        ("IsADirectoryError: [Errno 21] Is a directory",),
    ),
    Case(
        "jeeves module error with module name",
        "jeeves.modules.code_review.ModuleExecutionError: module 'code_review' failed after 3.2s "
        "reading /home/erin/src/payroll-service/app/models.py",
        ("erin", "payroll-service", "models.py"),
        ("jeeves.modules.code_review.ModuleExecutionError", "module 'code_review' failed after 3.2s"),
    ),
    Case(
        "python sqlalchemy url with password",
        "sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) connection to server at "
        '"db.internal.example.net" (172.16.4.21), port 5432 failed: FATAL:  password authentication failed '
        'for user "billing"\n(Background on this error at: https://sqlalche.me/e/20/e3q8)\n'
        "url: postgresql://billing:Tr0ub4dor&3@db.internal.example.net:5432/billing_prod",
        ("172.16.4.21", "Tr0ub4dor&3", "billing_prod"),
        ("sqlalchemy.exc.OperationalError", "port 5432 failed", "https://sqlalche.me/e/20/e3q8", "postgresql://"),
    ),
    Case(
        "python KeyError on settings dict with secrets",
        "KeyError: 'region' while reading {'aws_access_key_id': '" + AWS_ID + "', "
        "'aws_secret_access_key': '" + AWS_SECRET + "', 'bucket': 'acme-backups'}",
        (AWS_ID, AWS_SECRET),
        ("KeyError: 'region'", "'bucket'"),
    ),
    Case(
        "python repr of request headers",
        "httpx.HTTPStatusError: Client error '401 Unauthorized' for url 'https://api.github.com/user'\n"
        "headers={'Authorization': 'token " + GH + "', 'User-Agent': 'jeeves/1.4.2'}",
        (GH,),
        ("httpx.HTTPStatusError", "401 Unauthorized", "https://api.github.com/user", "jeeves/1.4.2"),
    ),
    Case(
        "python logging with email and ip",
        "2024-05-01 12:00:01,123 ERROR worker[1234]: login failed for frank.jones@gmail.com from 203.0.113.77",
        ("frank.jones@gmail.com", "203.0.113.77"),
        ("2024-05-01 12:00:01,123 ERROR worker[1234]: login failed for",),
    ),
    Case(
        "python subprocess CalledProcessError with token in argv",
        "subprocess.CalledProcessError: Command '['git', 'clone', 'https://x-access-token:"
        + GHO
        + "@github.com/acme/private-repo.git']' returned non-zero exit status 128.",
        (GHO, "private-repo"),
        ("subprocess.CalledProcessError", "returned non-zero exit status 128", "'git', 'clone'"),
    ),
    Case(
        "python openai error",
        "openai.AuthenticationError: Error code: 401 - {'error': {'message': 'Incorrect API key provided: "
        + OPENAI
        + ". You can find your API key at https://platform.openai.com/account/api-keys.'}}",
        (OPENAI,),
        ("openai.AuthenticationError: Error code: 401", "https://platform.openai.com/account/api-keys"),
    ),
    Case(
        "python anthropic key in env",
        "ANTHROPIC_API_KEY=" + ANTHROPIC + "\nanthropic.AuthenticationError: invalid x-api-key",
        (ANTHROPIC,),
        ("ANTHROPIC_API_KEY=", "anthropic.AuthenticationError: invalid x-api-key"),
    ),
    Case(
        "python pydantic settings dump",
        "pydantic_core._pydantic_core.ValidationError: 1 validation error for Settings\n"
        "database_url\n  Input should be a valid URL [type=url_parsing, input_value='mysql://root:hunter2@10.1.1.5/app']",
        ("hunter2", "10.1.1.5"),
        ("pydantic_core._pydantic_core.ValidationError: 1 validation error for Settings", "type=url_parsing"),
    ),
    Case(
        "python module not found in venv",
        "ModuleNotFoundError: No module named 'yaml' (sys.path: ['/home/gina/dev/tools', "
        "'/home/gina/.local/lib/python3.10/site-packages'])",
        ("gina", "/home"),
        ("ModuleNotFoundError: No module named 'yaml'",),
    ),
    # --- Node.js stack traces ----------------------------------------------------------------------
    Case(
        "node stack trace on mac",
        "TypeError: Cannot read properties of undefined (reading 'map')\n"
        "    at renderList (/Users/hank/code/acme-dashboard/src/components/List.jsx:42:18)\n"
        "    at processTicksAndRejections (node:internal/process/task_queues:95:5)",
        ("hank", "acme-dashboard", "List.jsx"),
        (
            "TypeError: Cannot read properties of undefined (reading 'map')",
            "at renderList (",
            ":42:18)",
            "node:internal/process/task_queues:95:5",
        ),
    ),
    Case(
        "node stack trace through node_modules",
        "Error: connect ECONNREFUSED 192.168.1.50:5432\n"
        "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)\n"
        "    at Client._connectionCallback (/home/ivy/app/node_modules/pg/lib/client.js:132:24)",
        ("192.168.1.50", "ivy", "/home"),
        (
            "Error: connect ECONNREFUSED",
            ":5432",
            "at Client._connectionCallback",
            "<node_modules>/pg/lib/client.js:132:24",
        ),
    ),
    Case(
        "node pnpm nested node_modules",
        "    at Object.<anonymous> (/srv/build/acme/node_modules/.pnpm/axios@1.6.0/node_modules/axios/lib/core/"
        "AxiosError.js:89:14)",
        ("/srv/build/acme", ".pnpm"),
        ("at Object.<anonymous>", "<node_modules>/axios/lib/core/AxiosError.js:89:14"),
    ),
    Case(
        "node windows stack",
        "Error: EPERM: operation not permitted, open 'C:\\Users\\jane\\Desktop\\acme\\package-lock.json'\n"
        "    at Object.openSync (node:fs:601:3)\n"
        "    at main (C:\\Users\\jane\\Desktop\\acme\\scripts\\build.mjs:12:7)",
        ("jane", "Desktop", "package-lock.json", "build.mjs"),
        ("Error: EPERM: operation not permitted, open", "at Object.openSync (node:fs:601:3)", "at main (", ":12:7)"),
    ),
    Case(
        "node axios error with bearer header",
        "AxiosError: Request failed with status code 403\n  config.headers: { Accept: 'application/json', "
        "Authorization: 'Bearer " + YA29 + "' }",
        (YA29,),
        ("AxiosError: Request failed with status code 403", "Accept: 'application/json'"),
    ),
    Case(
        "node unhandled rejection with jwt",
        "UnhandledPromiseRejection: JsonWebTokenError: invalid signature for token " + JWT,
        (JWT, "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"),
        ("UnhandledPromiseRejection: JsonWebTokenError: invalid signature",),
    ),
    Case(
        "node file url in ESM error",
        "Error [ERR_MODULE_NOT_FOUND]: Cannot find module 'file:///home/kim/work/secret-app/lib/db.js' "
        "imported from file:///home/kim/work/secret-app/index.js",
        ("kim", "secret-app", "db.js"),
        ("Error [ERR_MODULE_NOT_FOUND]: Cannot find module", "imported from"),
    ),
    Case(
        "node npm error log",
        "npm ERR! code E401\nnpm ERR! Unable to authenticate, your authentication token seems to be invalid.\n"
        "npm ERR! //registry.npmjs.org/:_authToken=" + NPM + "\n"
        "npm ERR! A complete log of this run can be found in: "
        "/Users/leo/.npm/_logs/2024-01-01T00_00_00_000Z-debug-0.log",
        (NPM, "leo", "debug-0.log"),
        ("npm ERR! code E401", "Unable to authenticate"),
    ),
    Case(
        "deno/bun style relative path",
        "error: Uncaught (in promise) TypeError: fetch failed\n    at async src/services/payments/stripe-sync.ts:88:11",
        ("payments", "stripe-sync.ts"),
        ("error: Uncaught (in promise) TypeError: fetch failed", ":88:11"),
    ),
    # --- Windows tools -----------------------------------------------------------------------------
    Case(
        ".NET exception",
        "System.IO.DirectoryNotFoundException: Could not find a part of the path "
        "'C:\\Users\\mike\\source\\repos\\Contoso.Payroll\\bin\\Debug\\net8.0\\appsettings.json'.\n"
        "   at System.IO.FileSystem.CreateDirectory(String fullPath)\n"
        "   at Contoso.Payroll.Startup.Load() in C:\\Users\\mike\\source\\repos\\Contoso.Payroll\\Startup.cs:line 57",
        ("mike", "appsettings.json", "Startup.cs", "repos"),
        (
            "System.IO.DirectoryNotFoundException: Could not find a part of the path",
            "at System.IO.FileSystem.CreateDirectory(String fullPath)",
            ":line 57",
        ),
    ),
    Case(
        "powershell error",
        "Get-Content : Cannot find path 'D:\\Shares\\Finance\\Q3 Reports\\salaries.xlsx' because it does not exist.\n"
        "At C:\\Users\\nora\\scripts\\report.ps1:14 char:9",
        ("Finance", "salaries.xlsx", "nora", "report.ps1"),
        ("Get-Content : Cannot find path", "because it does not exist.", ":14 char:9"),
    ),
    Case(
        "UNC path",
        "OSError: [WinError 53] The network path was not found: '\\\\FILESRV01\\home$\\oscar\\notes.txt'",
        ("FILESRV01", "oscar", "notes.txt"),
        ("OSError: [WinError 53] The network path was not found",),
    ),
    Case(
        "windows env var path",
        "Failed to write %USERPROFILE%\\AppData\\Roaming\\jeeves\\config.toml: access denied",
        ("AppData", "config.toml"),
        ("Failed to write", ": access denied"),
    ),
    Case(
        "windows set output",
        "COMPUTERNAME=DESKTOP-PAULA01\nUSERNAME=paula\nUSERDOMAIN=ACMECORP\nPROCESSOR_ARCHITECTURE=AMD64",
        ("DESKTOP-PAULA01", "paula", "ACMECORP"),
        ("COMPUTERNAME=", "USERNAME=", "PROCESSOR_ARCHITECTURE=AMD64"),
    ),
    # --- Environment dumps ---------------------------------------------------------------------------
    Case(
        "env dump with many secrets",
        "HOME=/home/quinn\nUSER=quinn\nHOSTNAME=quinn-thinkpad\nGITHUB_TOKEN=" + GH + "\n"
        "STRIPE_SECRET_KEY=" + STRIPE + "\nDATABASE_PASSWORD=correct-horse-battery\nLANG=en_US.UTF-8\nSHELL=/bin/zsh",
        ("quinn", GH, STRIPE, "correct-horse-battery"),
        ("GITHUB_TOKEN=", "STRIPE_SECRET_KEY=", "DATABASE_PASSWORD=", "LANG=en_US.UTF-8"),
    ),
    Case(
        "dotenv with quotes",
        'SECRET_KEY="django-insecure-x8#k2!p0@q9z$w7"\nDEBUG=True\nSLACK_WEBHOOK_URL="' + SLACK_HOOK + '"',
        ("django-insecure-x8#k2!p0@q9z$w7", "XXXXXXXXXXXXXXXXXXXXXXXX"),
        ("SECRET_KEY=", "DEBUG=True", "SLACK_WEBHOOK_URL="),
    ),
    Case(
        "docker compose env",
        "environment:\n  - POSTGRES_PASSWORD=supersecret123\n  - REDIS_URL=redis://:r3d1sP4ss@cache:6379/0",
        ("supersecret123", "r3d1sP4ss"),
        ("POSTGRES_PASSWORD=", "redis://"),
    ),
    Case(
        "yaml config dump",
        "config:\n  api_key: " + GOOGLE + "\n  client_secret: GOCSPX-abcdefghijklmnop1234\n  timeout: 30",
        (GOOGLE, "GOCSPX-abcdefghijklmnop1234"),
        ("api_key:", "client_secret:", "timeout: 30"),
    ),
    Case(
        "json config dump",
        '{"aws": {"access_key": "' + AWS_ID + '", "secret": "' + AWS_SECRET + '"}, "region": "eu-west-1"}',
        (AWS_ID, AWS_SECRET),
        ('"region": "eu-west-1"',),
    ),
    Case(
        "azure connection string",
        "azure.core.exceptions.ClientAuthenticationError: DefaultEndpointsProtocol=https;AccountName=acmestore;"
        "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
        "EndpointSuffix=core.windows.net",
        ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq",),
        ("azure.core.exceptions.ClientAuthenticationError", "EndpointSuffix=core.windows.net"),
    ),
    Case(
        "cli flags with password",
        "mysql: [Warning] Using a password on the command line interface can be insecure. "
        "cmd: mysqldump -u admin --password=Pa55w0rd! -h 10.0.0.12 shop",
        ("Pa55w0rd!", "10.0.0.12"),
        ("mysql: [Warning] Using a password on the command line interface can be insecure.", "mysqldump"),
    ),
    Case(
        "curl verbose with basic auth",
        "> GET /v1/me HTTP/1.1\n> Host: api.example.com\n> Authorization: Basic YWxpY2U6czNjcjN0cGFzc3dvcmQ=\n"
        "< HTTP/1.1 401 Unauthorized",
        ("YWxpY2U6czNjcjN0cGFzc3dvcmQ=",),
        ("> GET /v1/me HTTP/1.1", "Authorization: Basic", "< HTTP/1.1 401 Unauthorized"),
    ),
    Case(
        "cookie header",
        "requests.exceptions.TooManyRedirects: Exceeded 30 redirects. "
        "Cookie: sessionid=8f14e45fceea167a5a36dedd4bea2543; "
        "csrftoken=Xy12AbCdEfGh34IjKlMn",
        ("8f14e45fceea167a5a36dedd4bea2543", "Xy12AbCdEfGh34IjKlMn"),
        ("requests.exceptions.TooManyRedirects: Exceeded 30 redirects.",),
    ),
    # --- URLs with credentials -------------------------------------------------------------------------
    Case(
        "git remote with credentials",
        "fatal: unable to access 'https://oauth2:" + GLPAT + "@gitlab.acme.io/team/secret.git/': "
        "The requested URL returned error: 403",
        (GLPAT, "gitlab.acme.io", "secret.git"),
        ("fatal: unable to access", "The requested URL returned error: 403"),
    ),
    Case(
        "amqp url",
        "kombu.exceptions.OperationalError: [Errno 111] Connection refused (amqp://guest:guestpass@rabbit.local:5672//)",
        ("guestpass", "rabbit.local"),
        ("kombu.exceptions.OperationalError: [Errno 111] Connection refused", "amqp://"),
    ),
    Case(
        "mongodb srv url",
        "pymongo.errors.ConfigurationError: mongodb+srv://appuser:Zx9!mongoPwd@cluster0.ab1cd.mongodb.net/prod",
        ("Zx9!mongoPwd", "appuser", "cluster0.ab1cd"),
        ("pymongo.errors.ConfigurationError", "mongodb+srv://"),
    ),
    Case(
        "url with token query parameter",
        "HTTPError 400 for https://api.example.com/v2/export?format=csv&access_token=EAABwzLixnjYBAOZBZC1s2eQ&page=2",
        ("EAABwzLixnjYBAOZBZC1s2eQ",),
        ("HTTPError 400 for https://api.example.com/v2/export?format=csv", "page=2"),
    ),
    Case(
        "discord webhook",
        "webhook failed: https://discord.com/api/webhooks/123456789012345678/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
        ("AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",),
        ("webhook failed:",),
    ),
    # --- Provider tokens -----------------------------------------------------------------------------
    Case("github fine-grained token", "Bad credentials for " + GH_FINE, (GH_FINE,), ("Bad credentials for",)),
    Case(
        "slack bot token",
        "slack_sdk.errors.SlackApiError: invalid_auth (" + SLACK + ")",
        (SLACK,),
        ("slack_sdk.errors.SlackApiError: invalid_auth",),
    ),
    Case(
        "stripe restricted key",
        "stripe.error.AuthenticationError: Invalid API Key provided: " + STRIPE_RK,
        (STRIPE_RK,),
        ("stripe.error.AuthenticationError: Invalid API Key provided:",),
    ),
    Case(
        "stripe webhook secret",
        "SignatureVerificationError using " + WHSEC,
        (WHSEC,),
        ("SignatureVerificationError using",),
    ),
    Case(
        "openai legacy key",
        "Incorrect API key provided: " + OPENAI_OLD,
        (OPENAI_OLD,),
        ("Incorrect API key provided:",),
    ),
    Case(
        "huggingface token",
        "huggingface_hub.errors.HfHubHTTPError: 401 Client Error (token " + HF + ")",
        (HF,),
        ("huggingface_hub.errors.HfHubHTTPError: 401 Client Error",),
    ),
    Case(
        "sendgrid key",
        "python_http_client.exceptions.UnauthorizedError: HTTP 401 using " + SENDGRID,
        (SENDGRID,),
        ("python_http_client.exceptions.UnauthorizedError: HTTP 401",),
    ),
    Case(
        "pypi token",
        "twine upload failed: 403 Invalid or non-existent authentication information. token=" + PYPI,
        (PYPI,),
        ("twine upload failed: 403 Invalid or non-existent authentication information.",),
    ),
    Case(
        "aws key id alone",
        "botocore.exceptions.ClientError: InvalidAccessKeyId: The AWS Access Key Id "
        + AWS_ID
        + " you provided does not exist",
        (AWS_ID,),
        ("botocore.exceptions.ClientError: InvalidAccessKeyId", "you provided does not exist"),
    ),
    Case(
        "google api key in url",
        "HttpError 403 https://maps.googleapis.com/maps/api/geocode/json?key=" + GOOGLE,
        (GOOGLE,),
        ("HttpError 403 https://maps.googleapis.com/maps/api/geocode/json",),
    ),
    Case(
        "private key block",
        "ssl.SSLError: bad key\n" + PRIVATE_KEY + "\nwhile loading",
        ("MIIEowIBAAKCAQEA7bq2",),
        ("ssl.SSLError: bad key", "while loading"),
    ),
    Case(
        "truncated openssh key",
        "paramiko.ssh_exception.SSHException: not a valid key: " + OPENSSH_KEY,
        ("b3BlbnNzaC1rZXktdjEAAAAABG5vbmU",),
        ("paramiko.ssh_exception.SSHException: not a valid key:",),
    ),
    Case(
        "jwt alone",
        "jwt.exceptions.ExpiredSignatureError: Signature has expired: " + JWT,
        ("eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ",),
        ("jwt.exceptions.ExpiredSignatureError: Signature has expired:",),
    ),
    Case(
        "long hex token",
        "InvalidTokenError: refresh token " + HEX_TOKEN + " revoked",
        (HEX_TOKEN,),
        ("InvalidTokenError: refresh token", "revoked"),
    ),
    Case("long base64 secret", "HMAC mismatch with key " + B64_SECRET, (B64_SECRET,), ("HMAC mismatch with key",)),
    Case(
        "bearer token in log",
        "401 for request with header Authorization: Bearer abc123DEF456ghi789JKL012mno",
        ("abc123DEF456ghi789JKL012mno",),
        ("401 for request with header Authorization: Bearer",),
    ),
    # --- Personal data and network addresses -------------------------------------------------------
    Case(
        "ipv6 address",
        "OSError: [Errno 101] Network is unreachable: ('2001:db8:85a3::8a2e:370:7334', 443, 0, 0)",
        ("2001:db8:85a3::8a2e:370:7334",),
        ("OSError: [Errno 101] Network is unreachable", "443, 0, 0"),
    ),
    Case(
        "link-local ipv6 with zone",
        "bind failed on fe80::1ff:fe23:4567:890a%en0 port 8080",
        ("fe80::1ff:fe23:4567:890a",),
        ("bind failed on", "port 8080"),
    ),
    Case("mac address", "device 3c:22:fb:9a:1e:07 not paired", ("3c:22:fb:9a:1e:07",), ("device", "not paired")),
    Case(
        "email in feedback",
        "Please contact me at rachel.green+jeeves@example.org about the crash",
        ("rachel.green+jeeves@example.org", "rachel"),
        ("Please contact me at", "about the crash"),
    ),
    Case(
        "uk phone number with the area code in parentheses",
        "Call me back on +44 (20) 7946 0958 after the crash, or +44 (0) 20 7946 0959 at work",
        ("7946 0958", "+44 (20)", "7946 0959"),
        ("Call me back on", "after the crash, or", "at work"),
    ),
    Case(
        "us phone number with the area code in parentheses",
        "Feedback: the installer hangs on macOS. Text +1 (415) 555-0100 if you need logs.",
        ("555-0100", "(415)"),
        ("Feedback: the installer hangs on macOS.", "if you need logs."),
    ),
    Case(
        "german phone number with a trunk prefix",
        "Support ticket from +49 (0)30 1234567: module 'code_review' timed out",
        ("1234567", "+49 (0)30"),
        ("Support ticket from", ": module 'code_review' timed out"),
    ),
    Case(
        "phone numbers in international notation without parentheses",
        "contact: +1-415-555-0101 / +33 1 23 45 67 89 / tel:+14155550102",
        ("555-0101", "23 45 67 89", "14155550102"),
        ("contact:", "tel:"),
    ),
    Case(
        "scp-style git remote in a fetch error",
        "ERROR: Repository not found.\nfatal: Could not read from remote repository "
        "git@github.com:acme-corp/payroll-engine.git.\n\nPlease make sure you have the correct access rights",
        ("acme-corp", "payroll-engine", "git@github.com"),
        ("ERROR: Repository not found.", "fatal: Could not read from remote repository", "correct access rights"),
    ),
    Case(
        "git remote -v output",
        "origin\tgit@gitlab.acme.io:platform/billing-secrets.git (fetch)\n"
        "backup\tdeploy@10.20.0.7:srv/git/billing.git (push)",
        ("gitlab.acme.io", "platform/billing-secrets", "10.20.0.7", "srv/git/billing", "deploy@"),
        ("origin\t", " (fetch)", "backup\t", " (push)"),
    ),
    Case(
        "ssh git remote with a user and port",
        "subprocess.CalledProcessError: Command '['git', 'clone', "
        "'ssh://git@git.internal.example:2222/team/roadmap-2025.git']' returned non-zero exit status 128.",
        ("git.internal.example", "team/roadmap-2025", "roadmap-2025.git"),
        ("subprocess.CalledProcessError: Command", "returned non-zero exit status 128."),
    ),
    Case(
        "card number in feedback",
        "I was charged twice on card 4111 1111 1111 1111, please refund",
        ("4111 1111 1111 1111",),
        ("I was charged twice on card", "please refund"),
    ),
    Case(
        "file name in feedback",
        "Crashes every time I open quarterly_forecast_2025.xlsx in the review tool",
        ("quarterly_forecast_2025.xlsx",),
        ("Crashes every time I open", "in the review tool"),
    ),
    Case(
        "unix path with spaces",
        "cannot read /Users/Sam Lee/Google Drive/Clients/Acme Corp/brief.docx today",
        ("Sam Lee", "Acme Corp", "brief.docx", "Google Drive"),
        ("cannot read", "today"),
    ),
    Case(
        "relative project path",
        "lint failed in apps/payments/webhooks/stripe_handler.py (E501)",
        ("apps/payments", "stripe_handler.py"),
        ("lint failed in", "(E501)"),
    ),
    Case(
        "go panic",
        "panic: runtime error: invalid memory address or nil pointer dereference\n"
        "goroutine 1 [running]:\nmain.handler(0xc000010000)\n\t/home/tina/go/src/acme/internal/api/handler.go:88 +0x1d",
        ("tina", "handler.go", "/home"),
        ("panic: runtime error: invalid memory address", "main.handler(0xc000010000)", ":88 +0x1d"),
    ),
    Case(
        "rust panic",
        "thread 'main' panicked at src/bin/indexer.rs:131:5:\ncalled `Result::unwrap()` on an `Err` value",
        ("indexer.rs", "src/bin"),
        ("thread 'main' panicked at", ":131:5:", "called `Result::unwrap()` on an `Err` value"),
    ),
    Case(
        "java stack",
        "java.io.FileNotFoundException: /opt/acme/secrets/keystore.jks (Permission denied)\n"
        "\tat java.base/java.io.FileInputStream.open0(Native Method)",
        ("/opt/acme", "keystore.jks"),
        (
            "java.io.FileNotFoundException:",
            "(Permission denied)",
            "at java.base/java.io.FileInputStream.open0(Native Method)",
        ),
    ),
)
