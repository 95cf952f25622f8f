import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerInfo, ImageInfo } from '../../src/engine';
import {
  containerContextValue,
  containerDetails,
  errorWithHint,
  formatAge,
  formatDuration,
  formatSize,
  imageContextValue,
  imageLabel,
  sortContainers,
  sortImages,
  suggestContainerName,
  summaryText,
  validContainerName,
  validImageTag,
  isImageRef,
} from '../../src/extension/format';

const container = (name: string, state: ContainerInfo['state']): ContainerInfo => ({
  id: `${name}-id`.padEnd(64, '0'),
  name,
  image: 'salt-containers-test:py3',
  imageId: 'sha256:abc',
  state,
  status: state === 'running' ? 'Up 5 minutes' : 'Exited (0) 2 hours ago',
  created: 1_700_000_000,
  command: 'sleep infinity',
  ports: ['0.0.0.0:8080->80/tcp'],
  labels: {},
});

const image = (tags: string[], created: number): ImageInfo => ({ id: `sha256:${'f'.repeat(64)}`, tags, size: 161_000_000, created, dangling: tags.length === 0, labels: {} });

describe('format', () => {
  it('sizes in decimal units as docker prints them', () => {
    assert.equal(formatSize(512), '512 B');
    assert.equal(formatSize(1_980_000), '2.0 MB');
    assert.equal(formatSize(161_000_000), '161 MB');
    assert.equal(formatSize(2_500_000_000), '2.5 GB');
  });

  it('ages in words', () => {
    const now = 1_700_000_000;
    assert.equal(formatAge(now - 10, now), 'just now');
    assert.equal(formatAge(now - 60, now), '1 minute ago');
    assert.equal(formatAge(now - 5 * 3600, now), '5 hours ago');
    assert.equal(formatAge(now - 3 * 86400, now), '3 days ago');
    assert.equal(formatAge(now - 400 * 86400, now), '1 year ago');
    assert.equal(formatAge(now + 100, now), 'just now', 'clock skew never gives a negative age');
  });

  it('durations', () => {
    assert.equal(formatDuration(12.4), '12 ms');
    assert.equal(formatDuration(1530), '1.53 s');
    assert.equal(formatDuration(75_000), '1 min 15 s');
  });

  it('context values by state, for the menus', () => {
    assert.equal(containerContextValue('running'), 'runningContainer');
    assert.equal(containerContextValue('exited'), 'stoppedContainer');
    assert.equal(containerContextValue('created'), 'stoppedContainer');
    assert.equal(containerContextValue('paused'), 'pausedContainer');
    assert.equal(imageContextValue(image(['a:1'], 0)), 'image');
    assert.equal(imageContextValue(image([], 0)), 'danglingImage');
  });

  it('running containers first, then by name', () => {
    const sorted = sortContainers([container('b', 'exited'), container('c', 'running'), container('a', 'created'), container('a2', 'running')]);
    assert.deepEqual(sorted.map((c) => c.name), ['a2', 'c', 'a', 'b']);
  });

  it('named images by tag, dangling last and newest first', () => {
    const sorted = sortImages([image([], 10), image(['web:1'], 5), image([], 20), image(['api:2'], 1)]);
    assert.deepEqual(sorted.map((i) => `${imageLabel(i)}@${i.created}`), ['api:2@1', 'web:1@5', '<none> ffffffffffff@20', '<none> ffffffffffff@10']);
  });

  it('container tooltip rows carry ports, command and created', () => {
    const rows = Object.fromEntries(containerDetails(container('t2', 'running'), 1_700_000_000 + 7200));
    assert.equal(rows.Ports, '0.0.0.0:8080->80/tcp');
    assert.equal(rows.Command, 'sleep infinity');
    assert.equal(rows.Created, '2023-11-14 22:13:20 (2 hours ago)');
    assert.equal(rows.ID.length, 12);
  });

  it('status-bar summary', () => {
    const base = { succeeded: 5, changed: 2, failed: 0, pending: 0, total: 5, stateDurationMs: 10 };
    assert.equal(summaryText(base, 0), '$(check) Salt: 2 changed, 5 ok');
    assert.equal(summaryText({ ...base, failed: 1, total: 6 }, 0), '$(error) Salt: 1 failed, 2 changed, 5 ok');
    assert.equal(summaryText({ ...base, changed: 0, pending: 3 }, 0), '$(info) Salt: 3 pending, 5 ok');
    assert.equal(summaryText({ ...base, changed: 0, succeeded: 0, total: 0 }, 1), '$(error) Salt: 1 error, 0 ok');
  });

  it('names and tags Docker accepts', () => {
    assert.equal(validContainerName('web-1.test_x'), undefined);
    assert.ok(validContainerName('-web'));
    assert.ok(validContainerName('web box'));
    assert.ok(validContainerName(''));
    assert.equal(validImageTag('web:latest'), undefined);
    assert.equal(validImageTag('myorg/web'), undefined);
    assert.equal(validImageTag('registry.local/a/b:1.0-rc1'), undefined);
    assert.ok(validImageTag('Web:latest'), 'uppercase repository');
    assert.ok(validImageTag('web:'), 'empty tag');
    assert.ok(validImageTag(''));
    assert.equal(validImageTag('127.0.0.1:5000/sc/web:1'), undefined, 'a registry with a port');
    assert.ok(isImageRef('debian:12'));
    assert.ok(isImageRef('saltimages/salt-master-py3:debian-12'));
    assert.ok(isImageRef('127.0.0.1:23750/sc/py3:1'));
    assert.ok(isImageRef(`ghcr.io/owner/image@sha256:${'a'.repeat(64)}`));
    assert.ok(!isImageRef('Debian:12'), 'uppercase repository');
    assert.ok(!isImageRef('debian 12'));
    assert.ok(!isImageRef(''));
    assert.equal(suggestContainerName('myorg/web:1.0', 'ab12'), 'web-ab12');
    assert.equal(suggestContainerName('salt-containers-test:py3', 'ab12'), 'salt-containers-test-ab12');
  });
});

describe('error notifications', () => {
  it('join an error and its hint as two sentences', () => {
    assert.equal(errorWithHint({ message: 'no Python with Salt found on this machine', hint: 'Install Salt on the host.' }), 'no Python with Salt found on this machine. Install Salt on the host.');
    assert.equal(errorWithHint({ message: 'engine down.', hint: 'Start Docker.' }), 'engine down. Start Docker.');
    assert.equal(errorWithHint({ message: 'plain' }), 'plain');
    assert.equal(errorWithHint('a string'), 'a string');
  });
});
