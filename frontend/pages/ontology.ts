/** The recipe and ontology editor (being built). */
export {};
