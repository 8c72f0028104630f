// Placeholder until the generator lands: the build runs this before tsc.
console.log('qapi-gen: nothing to generate yet');
