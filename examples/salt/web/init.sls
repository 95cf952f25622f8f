{% from "web/map.jinja" import web with context %}
include:
  - common

web_conf_dir:
  file.directory:
    - name: {{ web.conf_dir }}
    - makedirs: True

web_config:
  file.managed:
    - name: {{ web.conf_dir }}/site.conf
    - source: salt://web/files/site.conf.jinja
    - template: jinja
    - context:
        port: {{ pillar['web']['port'] }}
        docroot: {{ web.docroot }}
    - require:
      - file: web_conf_dir

{% for site in pillar['web']['sites'] %}
web_site_{{ site }}:
  file.managed:
    - name: {{ web.docroot }}/{{ site }}/index.html
    - makedirs: True
    - contents: "<h1>{{ site }}</h1>"
    - require:
      - file: app_root
{% endfor %}

web_reload:
  cmd.run:
    - name: echo "reloading web on port {{ pillar['web']['port'] }}"
    - onchanges:
      - file: web_config

web_greeting:
  module.run:
    - demo.greet:
      - name: {{ grains['id'] }}
