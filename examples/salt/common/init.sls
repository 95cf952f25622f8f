# Base layout every container gets.
include:
  - .motd

app_root:
  file.directory:
    - name: /srv/app
    - mode: '0755'
    - makedirs: True

app_user_marker:
  file.managed:
    - name: /srv/app/OWNER
    - contents: {{ salt['pillar.get']('app:owner', 'nobody') }}
    - require:
      - file: app_root
