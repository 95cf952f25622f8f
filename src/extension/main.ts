// placeholder: filled in by the extension work
export {};
