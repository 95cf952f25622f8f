{# Rendered in the container, against its own grains. #}
app:
  owner: {{ 'debian-admin' if grains['os_family'] == 'Debian' else 'admin' }}
web:
  port: {{ 8080 if grains['os_family'] == 'Debian' else 80 }}
  sites:
    - blog
    - shop
