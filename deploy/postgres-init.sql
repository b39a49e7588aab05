-- Each service owns its database (compose.yaml's postgres runs this once, on an empty volume).
CREATE DATABASE suppliers;
CREATE DATABASE matching;
CREATE DATABASE fulfilment;
