motd:
  file.managed:
    - name: /etc/motd
    - source: salt://common/files/motd.jinja
    - template: jinja
    - mode: '0644'
